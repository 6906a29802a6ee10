package plugin

import "testing"

func TestExpandEnv(t *testing.T) {
	env := map[string]string{"CA": "/etc/ca.pem", "QUOTE": `a"b\c`, "EMPTY": "", "PWD_DOLLAR": "pa$$w${x}"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cases := []struct {
		name, in, out, err string
	}{
		{"references", "[[inputs.certexpiry]]\nca_file = \"$CA\"\ntls_cert = \"${CA}.crt\"\nx = \"$EMPTY\"\n",
			"[[inputs.certexpiry]]\nca_file = \"/etc/ca.pem\"\ntls_cert = \"/etc/ca.pem.crt\"\nx = \"\"\n", ""},
		{"values stay inside their string", `a = "$QUOTE"`, `a = "a\"b\\c"`, ""},
		{"a value is not expanded again", `a = "$PWD_DOLLAR"`, `a = "pa$$w${x}"`, ""},
		{"a $ before anything else is literal", "a = \"cost $ 5 $\"\nb = \"x$\"\nc = \"$.$/\"\nd = \"$", "a = \"cost $ 5 $\"\nb = \"x$\"\nc = \"$.$/\"\nd = \"$", ""},
		{"whole-line and trailing comments are not references",
			"# $UNSET ${ $$ ${}\n[[inputs.certexpiry]] # ${\nca_file = \"$CA\" # was $OLD_CA, see ${\n  # ${UNSET}\n",
			"# $UNSET ${ $$ ${}\n[[inputs.certexpiry]] # ${\nca_file = \"/etc/ca.pem\" # was $OLD_CA, see ${\n  # ${UNSET}\n", ""},
		{"a # inside a string is no comment", "[t]\na = \"x # $UNSET\"\n", "",
			"line 2 (t.a): $UNSET is not set"},
		{"${ without a closing brace, even one on a later line", "[inputs.certexpiry]\nca_file = \"${CA\"\n# }\n", "",
			`line 2 (inputs.certexpiry.ca_file): "${" has no closing brace on its line`},
		{"${}", "[[inputs.certexpiry.target]]\naddress = \"h${}\"\n", "",
			`line 2 (inputs.certexpiry.target.address): "${}" names no variable`},
		{"${not a name}", "a = \"${CA:-x}\"\nb = \"${1}\"\n", "",
			"line 1 (a): \"${CA:-x}\" is not a variable name\nline 2 (b): \"${1}\" is not a variable name"},
		{"shell special parameters", "a = \"pa$$word $1 $* $# $@ $! $? $-\"\n", "",
			"line 1 (a): \"$$\" is a shell special parameter, not a variable: the shim would replace it with nothing\n" +
				"line 1 (a): \"$1\" is a shell special parameter, not a variable: the shim would replace it with nothing\n" +
				"line 1 (a): \"$*\" is a shell special parameter, not a variable: the shim would replace it with nothing\n" +
				"line 1 (a): \"$#\" is a shell special parameter, not a variable: the shim would replace it with nothing\n" +
				"line 1 (a): \"$@\" is a shell special parameter, not a variable: the shim would replace it with nothing\n" +
				"line 1 (a): \"$!\" is a shell special parameter, not a variable: the shim would replace it with nothing\n" +
				"line 1 (a): \"$?\" is a shell special parameter, not a variable: the shim would replace it with nothing\n" +
				"line 1 (a): \"$-\" is a shell special parameter, not a variable: the shim would replace it with nothing"},
		{"multi-line strings and arrays keep their key and line", "[x]\ndomains = [\n  \"a.test\",\n  \"$UNSET.test\",\n]\ns = \"\"\"\n# not a comment $UNSET2\n\"\"\"\n", "",
			"line 4 (x.domains): $UNSET is not set\nline 7 (x.s): $UNSET2 is not set"},
		{"literal strings are expanded as well, as the shim does", "a = '$UNSET'\nb = '''\n$UNSET2'''\n", "",
			"line 1 (a): $UNSET is not set\nline 3 (b): $UNSET2 is not set"},
		{"quotes ending a multi-line string", "a = \"\"\"x\"\"\"\"\" # $C1\nb = '''y''''' # $C2\nc = \"$UNSET\"\n", "",
			"line 3 (c): $UNSET is not set"},
		{"escaped quote inside a string", "a = \"\\\"# $UNSET\"\n", "", "line 1 (a): $UNSET is not set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := expandEnv(tc.in, lookup)
			if tc.err == "" {
				if err != nil || out != tc.out {
					t.Fatalf("expandEnv(%q) = %q, %v\nwant %q", tc.in, out, err, tc.out)
				}
				return
			}
			if err == nil || err.Error() != tc.err+"\n"+dollarHint {
				t.Fatalf("expandEnv(%q) error:\n%v\nwant:\n%s\n%s", tc.in, err, tc.err, dollarHint)
			}
		})
	}
}
