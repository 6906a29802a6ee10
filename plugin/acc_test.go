package plugin

import "time"

func durationOf(seconds float64) time.Duration { return time.Duration(seconds * float64(time.Second)) }
