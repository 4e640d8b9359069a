// Package campolicy checks scripts/cam-policy.json against the code: the
// least-privilege policy must allow exactly the API actions clbcert calls.
package campolicy

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const root = "../.."

// calledActions finds every tencent.Do(ctx, caller, "Action", func(...)
// (*product.XResponse, error) {...}) in the product packages, and every
// call of a wrapper of tencent.Do that passes "Action" and the SDK method
// (*product.Client).ActionWithContext, and names it "product:Action", the
// product taken from the import path of the SDK package
// (".../tencentcloud/ssl/v20191205" → "ssl").
func calledActions(t *testing.T) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(root, "pkg"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "tcsim" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		products := map[string]string{}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			parts := strings.Split(p, "/")
			if !strings.Contains(p, "tencentcloud-sdk-go/tencentcloud/") || len(parts) < 2 {
				continue
			}
			name := parts[len(parts)-1]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			products[name] = parts[len(parts)-2]
		}
		for _, decl := range f.Decls {
			// A wrapper passes its own parameter to tencent.Do as the
			// action; its callers name the action and the SDK method.
			params := map[string]bool{}
			if fd, ok := decl.(*ast.FuncDecl); ok {
				for _, field := range fd.Type.Params.List {
					for _, name := range field.Names {
						params[name.Name] = true
					}
				}
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if product, action, ok := sdkMethod(call, products); ok {
					if lit := stringArg(call); lit != action {
						t.Errorf("%s: the call of %s.%s names the action %q: name it %q, so the limiter and the policy see the action made", path, product, action, lit, action)
					}
					out = append(out, product+":"+action)
					return true
				}
				if !isTencentDo(call) {
					return true
				}
				if len(call.Args) != 4 {
					t.Errorf("%s: tencent.Do with %d arguments", path, len(call.Args))
					return true
				}
				if id, ok := call.Args[2].(*ast.Ident); ok && params[id.Name] {
					return true
				}
				lit, ok := call.Args[2].(*ast.BasicLit)
				fn, fok := call.Args[3].(*ast.FuncLit)
				if !ok || !fok || lit.Kind != token.STRING {
					t.Errorf("%s: tencent.Do needs a literal action and a func literal, so the policy can be checked", path)
					return true
				}
				action, _ := strconv.Unquote(lit.Value)
				product := ""
				if res := fn.Type.Results; res != nil && len(res.List) > 0 {
					if star, ok := res.List[0].Type.(*ast.StarExpr); ok {
						if s, ok := star.X.(*ast.SelectorExpr); ok {
							if id, ok := s.X.(*ast.Ident); ok {
								product = products[id.Name]
							}
						}
					}
				}
				if product == "" {
					t.Errorf("%s: cannot tell the product of %s from its response type", path, action)
					return true
				}
				out = append(out, product+":"+action)
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// isTencentDo reports whether call is tencent.Do, tencent.Do[T] or
// tencent.Do[T, U].
func isTencentDo(call *ast.CallExpr) bool {
	fun := call.Fun
	switch inst := fun.(type) {
	case *ast.IndexExpr:
		fun = inst.X
	case *ast.IndexListExpr:
		fun = inst.X
	}
	s, ok := fun.(*ast.SelectorExpr)
	return ok && s.Sel.Name == "Do" && isIdent(s.X, "tencent")
}

// sdkMethod finds an argument (*sdk.Client).ActionWithContext, the SDK
// method a wrapper of tencent.Do calls, and names its product and action.
func sdkMethod(call *ast.CallExpr, products map[string]string) (product, action string, ok bool) {
	for _, arg := range call.Args {
		sel, ok := arg.(*ast.SelectorExpr)
		if !ok || !strings.HasSuffix(sel.Sel.Name, "WithContext") {
			continue
		}
		paren, ok := sel.X.(*ast.ParenExpr)
		if !ok {
			continue
		}
		star, ok := paren.X.(*ast.StarExpr)
		if !ok {
			continue
		}
		typ, ok := star.X.(*ast.SelectorExpr)
		if !ok || typ.Sel.Name != "Client" {
			continue
		}
		if id, ok := typ.X.(*ast.Ident); ok && products[id.Name] != "" {
			return products[id.Name], strings.TrimSuffix(sel.Sel.Name, "WithContext"), true
		}
	}
	return "", "", false
}

// stringArg is call's first string literal argument, or "".
func stringArg(call *ast.CallExpr) string {
	for _, arg := range call.Args {
		if lit, ok := arg.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			s, _ := strconv.Unquote(lit.Value)
			return s
		}
	}
	return ""
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func TestPolicyAllowsExactlyWhatTheCodeCalls(t *testing.T) {
	called := calledActions(t)
	if len(called) < 10 {
		t.Fatalf("found only %v: the scan is broken", called)
	}
	data, err := os.ReadFile(filepath.Join(root, "scripts", "cam-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Version   string
		Statement []struct {
			Effect   string
			Action   []string
			Resource []string
		}
	}
	if err := json.Unmarshal(data, &policy); err != nil {
		t.Fatalf("cam-policy.json: %v", err)
	}
	var allowed []string
	for _, st := range policy.Statement {
		if st.Effect != "allow" {
			t.Errorf("statement with effect %q: the policy only allows", st.Effect)
		}
		allowed = append(allowed, st.Action...)
	}
	slices.Sort(allowed)
	for _, a := range called {
		if !slices.Contains(allowed, a) {
			t.Errorf("the code calls %s, which cam-policy.json does not allow: add it", a)
		}
	}
	for _, a := range allowed {
		if !slices.Contains(called, a) {
			t.Errorf("cam-policy.json allows %s, which no code calls: remove it", a)
		}
	}
}
