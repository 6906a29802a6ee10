package discovery

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"k8s.io/klog/v2"
)

type levelLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *levelLog) Warnf(f string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, "W! "+fmt.Sprintf(f, a...))
}
func (l *levelLog) Debugf(f string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, "D! "+fmt.Sprintf(f, a...))
}

func TestRouteKlog(t *testing.T) {
	log := &levelLog{}
	RouteKlog(log)
	t.Cleanup(klog.ClearLogger)
	klog.Background().Info("Warning: watch ended with error", "reflector", "pods", "err", "EOF")
	klog.Background().Error(errors.New("boom"), "Failed to watch", "type", "pods")
	klog.Background().V(4).Info("too verbose to show")
	want := []string{
		"D! kubernetes client: Warning: watch ended with error reflector=pods err=EOF",
		"W! kubernetes client: Failed to watch err=boom type=pods",
	}
	if !reflect.DeepEqual(log.lines, want) {
		t.Fatalf("got %q\nwant %q", log.lines, want)
	}
}
