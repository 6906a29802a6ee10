package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// ErrParam is returned when a query file lacks a parameter the generator sets.
var ErrParam = errors.New("query parameter")

// loadQuery reads a .flux file below root (path relative to root, e.g. "flux/renewal_age.flux").
func loadQuery(root, rel string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// setParams replaces the assignment line of each parameter ("name = value" at the start of a
// line). A parameter that is not assigned exactly once is an error naming the file and the
// parameter: a renamed parameter must not silently leave the old value in a dashboard.
func setParams(rel, query string, params map[string]string) (string, error) {
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` = .*$`)
		if n := len(re.FindAllStringIndex(query, -1)); n != 1 {
			return "", fmt.Errorf("%s: %w %q: want one assignment line, found %d", rel, ErrParam, name, n)
		}
		query = re.ReplaceAllLiteralString(query, name+" = "+params[name])
	}
	return query, nil
}

// stripHeader removes the leading comment block (the file's documentation) and the blank
// lines after it, and puts a one-line pointer back to the source file in its place.
func stripHeader(rel, query string) string {
	lines := strings.Split(query, "\n")
	i := 0
	for i < len(lines) && (strings.HasPrefix(lines[i], "//") || strings.TrimSpace(lines[i]) == "") {
		i++
	}
	return "// Generated from " + rel + " by `make dashboards`: edit that file, not this query.\n" + strings.Join(lines[i:], "\n")
}

// dashboardQuery is a query file as a dashboard cell runs it.
func dashboardQuery(root, rel string, params map[string]string) (string, error) {
	q, err := loadQuery(root, rel)
	if err != nil {
		return "", err
	}
	q, err = setParams(rel, q, params)
	if err != nil {
		return "", err
	}
	return stripHeader(rel, q), nil
}
