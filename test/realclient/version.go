package main

import (
	"runtime/debug"
	"strings"
)

// govcdModule names the go-vcloud-director module and version this binary was built with.
var govcdModule = func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if strings.HasPrefix(d.Path, "github.com/vmware/go-vcloud-director/") {
				return d.Path + "@" + d.Version
			}
		}
	}
	return "unknown"
}()
