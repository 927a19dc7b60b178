// argocd-health runs Argo CD health checks (health.lua) the way Argo CD's application controller
// does: gopher-lua with only the base, package and table libraries (a resource.customizations
// entry in argocd-cm runs without the standard libraries unless useOpenLibs is set), the object as
// the global `obj`, a one-second deadline, and a returned table whose status must be one of
// Argo CD's health codes (anything else becomes Unknown).
//
// Input on stdin: a JSON array of {"script": "...", "obj": {...}}. Output on stdout: a JSON array
// of {"status": "...", "message": "..."} or {"error": "..."}, one per input, in order.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
)

type input struct {
	Script string         `json:"script"`
	Obj    map[string]any `json:"obj"`
}

type output struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message"`
	Error   string `json:"error,omitempty"`
}

var validStatus = map[string]bool{"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true}

func toLua(l *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case []any:
		t := l.CreateTable(len(x), 0)
		for _, item := range x {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(x))
		for k, item := range x {
			t.RawSetH(lua.LString(k), toLua(l, item))
		}
		return t
	}
	return lua.LNil
}

func run(in input) output {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return output{Error: err.Error()}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, in.Obj))
	if err := l.DoString(in.Script); err != nil {
		return output{Error: err.Error()}
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return output{Error: fmt.Sprintf("expect table output from Lua script, not %s", l.Get(-1).Type())}
	}
	status, ok := ret.RawGetString("status").(lua.LString)
	if !ok {
		return output{Error: "the returned table has no string status"}
	}
	var message string
	switch m := ret.RawGetString("message").(type) {
	case lua.LString:
		message = string(m)
	case *lua.LNilType:
	default:
		return output{Error: fmt.Sprintf("message must be a string, not %s", m.Type())}
	}
	if !validStatus[string(status)] {
		return output{Status: "Unknown", Message: "Lua returned an invalid health status"}
	}
	return output{Status: string(status), Message: message}
}

func main() {
	var ins []input
	if err := json.NewDecoder(os.Stdin).Decode(&ins); err != nil {
		fmt.Fprintln(os.Stderr, "argocd-health: reading stdin:", err)
		os.Exit(2)
	}
	outs := make([]output, len(ins))
	for i, in := range ins {
		outs[i] = run(in)
	}
	if err := json.NewEncoder(os.Stdout).Encode(outs); err != nil {
		fmt.Fprintln(os.Stderr, "argocd-health: writing stdout:", err)
		os.Exit(2)
	}
}
