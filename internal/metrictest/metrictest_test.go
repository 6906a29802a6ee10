package metrictest

import (
	"reflect"
	"testing"
	"time"
)

func TestParseLineProtocol(t *testing.T) {
	rows, err := ParseLineProtocol([]byte("m,host=web\\ 1,domain=a.test n=1i,u=2u,f=1.5,s=\"x y\",b=true 1795335563914642600\nm2 v=2 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Measurement: "m", Tags: map[string]string{"host": "web 1", "domain": "a.test"},
			Fields: map[string]any{"n": int64(1), "u": uint64(2), "f": 1.5, "s": "x y", "b": true}, Time: time.Unix(0, 1795335563914642600)},
		{Measurement: "m2", Tags: map[string]string{}, Fields: map[string]any{"v": 2.0}, Time: time.Unix(0, 1)},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("got %v\nwant %v", rows, want)
	}
	if _, err := ParseLineProtocol([]byte("m,broken v=\n")); err == nil {
		t.Fatal("malformed line accepted")
	}
}

func TestTagLine(t *testing.T) {
	if got := TagLine(map[string]string{"b": "2", "a": "1"}); got != "a=1,b=2" {
		t.Fatalf("TagLine = %q", got)
	}
}
