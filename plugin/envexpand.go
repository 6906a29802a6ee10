package plugin

import (
	"errors"
	"fmt"
	"strings"
)

// expandEnv replaces $NAME and ${NAME} in the plugin config with the value lookup gives, as
// Telegraf's execd shim does (values escaped so that they stay inside a TOML basic string),
// with three differences that keep a mistake from turning silently into another setting:
//
//   - every $ that the shim's os.Expand would change, but that is not a reference to a set
//     variable, is refused: an unset $NAME, "${" without a closing brace on its line, "${}",
//     "${not a name}", and the shell's special names ($$, $1, $*, $#, $@, $!, $?, $-);
//   - a $ inside a TOML comment (a whole-line or a trailing one) is not a reference: it is
//     neither expanded nor refused;
//   - a $ followed by anything else (a space, a quote, the end of the file) stays a literal $,
//     as with the shim.
//
// Each refused $ is reported with its line, and the option it belongs to when known.
func expandEnv(config string, lookup func(string) (string, bool)) (string, error) {
	s := newTOMLScanner(config)
	var out strings.Builder
	var errs []error
	escaper := strings.NewReplacer(`"`, `\"`, `\`, `\\`)
	for i := 0; i < len(config); i++ {
		c := config[i]
		if c != '$' || s.inComment() {
			out.WriteByte(c)
			s.step(i)
			continue
		}
		ref, name, problem := reference(config[i+1:])
		switch {
		case ref == "":
			out.WriteByte(c) // a literal $, left alone by the shim too
		case problem != "":
			errs = append(errs, s.errorf("%q %s", "$"+ref, problem))
		default:
			if v, ok := lookup(name); ok {
				out.WriteString(escaper.Replace(v))
			} else {
				errs = append(errs, s.errorf("$%s is not set", name))
			}
		}
		// A well-formed reference holds no quote, '#', bracket or newline, so the scanner's
		// state does not change across it; after a refused one, only the line number matters.
		s.step(i)
		i += len(ref)
	}
	if len(errs) > 0 {
		errs = append(errs, errors.New("$NAME and ${NAME} are replaced by the environment's value; a $ before a letter, digit, brace or one of $*#@!?- cannot stand for itself"))
		return "", errors.Join(errs...)
	}
	return out.String(), nil
}

// reference reads what follows a $ (rest) as os.Expand would. ref is the text it would consume
// after the $ ("" when it leaves the $ alone), name the variable for a well-formed reference,
// problem why a consumed reference is refused.
func reference(rest string) (ref, name, problem string) {
	if rest == "" {
		return "", "", ""
	}
	switch c := rest[0]; {
	case c == '{':
		end := strings.IndexAny(rest, "}\n")
		switch {
		case end < 0 || rest[end] == '\n':
			return "{", "", "has no closing brace on its line"
		case end == 1:
			return "{}", "", "names no variable"
		case !isVarName(rest[1:end]):
			return rest[:end+1], "", "is not a variable name"
		}
		return rest[:end+1], rest[1:end], ""
	case strings.IndexByte("*#$@!?-0123456789", c) >= 0:
		return rest[:1], "", "is a shell special parameter, not a variable: the shim would replace it with nothing"
	case isNameByte(c):
		n := 1
		for n < len(rest) && isNameByte(rest[n]) {
			n++
		}
		return rest[:n], rest[:n], ""
	}
	return "", "", ""
}

func isNameByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isVarName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

// tomlScanner follows a TOML document byte by byte just far enough to tell comments from
// strings and to name the option a byte belongs to. It does not validate: the TOML decoder
// reports malformed documents afterwards.
type tomlScanner struct {
	doc   string
	state scanState
	line  int
	// lineStart is true until the first non-blank byte of a line outside any string.
	lineStart bool
	depth     int    // open arrays and inline tables
	table     string // current [table] or [[array of tables]]
	key       string // key of the current statement
	skip      int    // bytes of a triple-quote delimiter still to pass
}

type scanState int

const (
	scanCode scanState = iota
	scanComment
	scanBasic     // "..."
	scanLiteral   // '...'
	scanMLBasic   // """..."""
	scanMLLiteral // '''...'''
)

func newTOMLScanner(doc string) *tomlScanner {
	return &tomlScanner{doc: doc, line: 1, lineStart: true}
}

func (s *tomlScanner) inComment() bool { return s.state == scanComment }

// errorf describes a problem at the current position: line, then the option when known.
func (s *tomlScanner) errorf(format string, args ...any) error {
	where := fmt.Sprintf("line %d", s.line)
	if s.key != "" {
		key := s.key
		if s.table != "" {
			key = s.table + "." + key
		}
		where += " (" + key + ")"
	}
	return fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
}

// step moves the scanner past doc[i].
func (s *tomlScanner) step(i int) {
	doc, c := s.doc, s.doc[i]
	if s.skip > 0 {
		s.skip--
		return
	}
	if c == '\n' {
		s.line++
		if s.state == scanComment || s.state == scanBasic || s.state == scanLiteral {
			s.state = scanCode
		}
		if s.state == scanCode {
			s.lineStart = true
		}
		return
	}
	switch s.state {
	case scanComment:
	case scanBasic:
		if c == '"' && !escaped(doc, i) {
			s.state = scanCode
		}
	case scanLiteral:
		if c == '\'' {
			s.state = scanCode
		}
	case scanMLBasic:
		// Up to two quotes may end the content: the delimiter is the last three.
		if strings.HasPrefix(doc[i:], `"""`) && !escaped(doc, i) && !strings.HasPrefix(doc[i+1:], `"""`) {
			s.state, s.skip = scanCode, 2
		}
	case scanMLLiteral:
		if strings.HasPrefix(doc[i:], `'''`) && !strings.HasPrefix(doc[i+1:], `'''`) {
			s.state, s.skip = scanCode, 2
		}
	case scanCode:
		if s.lineStart && c != ' ' && c != '\t' && c != '\r' {
			s.lineStart = false
			s.statement(i)
		}
		s.code(i)
	}
}

// statement notes the table or key that a line starting at doc[i] (outside strings) declares.
func (s *tomlScanner) statement(i int) {
	line := s.doc[i:]
	if end := strings.IndexByte(line, '\n'); end >= 0 {
		line = line[:end]
	}
	if s.depth > 0 || strings.HasPrefix(line, "#") {
		return
	}
	if strings.HasPrefix(line, "[") {
		if end := strings.IndexByte(line, ']'); end >= 0 {
			s.table = strings.TrimSpace(strings.Trim(line[:end], "[]"))
			s.key = ""
		}
		return
	}
	if eq := strings.IndexByte(line, '='); eq > 0 {
		s.key = strings.TrimSpace(line[:eq])
	}
}

// code handles doc[i] outside strings and comments.
func (s *tomlScanner) code(i int) {
	doc := s.doc
	switch doc[i] {
	case '#':
		s.state = scanComment
	case '"':
		if strings.HasPrefix(doc[i:], `"""`) {
			s.state = scanMLBasic
			s.skip = 2
		} else {
			s.state = scanBasic
		}
	case '\'':
		if strings.HasPrefix(doc[i:], `'''`) {
			s.state = scanMLLiteral
			s.skip = 2
		} else {
			s.state = scanLiteral
		}
	case '[', '{':
		s.depth++
	case ']', '}':
		if s.depth > 0 {
			s.depth--
		}
	}
}

// escaped reports whether doc[i] follows an odd number of backslashes.
func escaped(doc string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && doc[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}
