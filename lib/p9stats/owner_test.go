package p9stats

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mackerel-plan9/mackerel-plugin-plan9/internal/testkit"
)

// This package is the one owner of every fact about the kernel: no other
// package of the module opens, reads, lists, stats or writes a file under
// /dev, /net or /proc, or a kernel device (#c, #p, …); they ask p9stats.
// The check is vet-style, on the syntax of every non-test Go file: a
// call of a file-opening function or method whose path argument holds
// such a name, directly, through a variable or constant of the function
// or the package, or through what a function of the package returns (as
// a helper procPath(pid, "noteid") would).
func TestOneOwnerOfKernelFiles(t *testing.T) {
	root := testkit.Root()
	byPkg := map[string][]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch rel {
			case ".git", "testdata", "lib/p9stats":
				return filepath.SkipDir
			case "internal/testkit":
				// Linked into tests only, it writes made-up name
				// spaces (a Linux /proc) into temporary directories.
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		byPkg[filepath.Dir(rel)] = append(byPkg[filepath.Dir(rel)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(byPkg) < 10 {
		t.Fatalf("only %d packages found under %s", len(byPkg), root)
	}
	for dir, files := range byPkg {
		for _, v := range kernelPathUses(fset, files) {
			rel, _ := filepath.Rel(root, v.pos.Filename)
			t.Errorf("%s:%d (package %s): %s names the kernel file %q; ask package p9stats instead", filepath.ToSlash(rel), v.pos.Line, dir, v.call, v.name)
		}
	}
}

// The check finds what the runner of the agent did before it asked
// p9stats: reading /proc/N/noteid through a helper, listing /proc, writing
// a note group's notepg, and the like; and it lets messages and other
// paths be.
func TestOneOwnerCheckFinds(t *testing.T) {
	src := `package agent

import (
	"os"
	"path/filepath"
	"strconv"
)

const procDir = "/proc"

func procPath(pid int, file string) string { return procDir + "/" + strconv.Itoa(pid) + "/" + file }

func bad(root string, pid int) {
	os.ReadFile(procPath(pid, "noteid"))
	os.ReadDir("/proc")
	f, _ := os.OpenFile(procPath(pid, "notepg"), os.O_WRONLY, 0)
	f.Close()
	name := "#c/sysstat"
	os.Stat(name)
	os.Stat(filepath.Join(root, "dev", "sysstat"))
	var fsys interface{ ReadFile(string) ([]byte, error) }
	fsys.ReadFile("net/ether0/stats")
}

func good(root string) error {
	os.ReadFile(filepath.Join(root, "id"))
	os.Stat("/srv/cwfs.cmd")
	os.ReadFile("/device/x")
	println("/proc cannot be read")
	return nil
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "agent.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, v := range kernelPathUses(fset, []*ast.File{f}) {
		lines = append(lines, v.pos.Line)
	}
	want := []int{14, 15, 16, 19, 20, 22}
	if !slices.Equal(lines, want) {
		t.Errorf("found on lines %v, want %v", lines, want)
	}
}

type kernelPathUse struct {
	pos  token.Position
	call string
	name string
}

// openers are the functions and methods that take a file's name first:
// those of os, io/fs, syscall and path/filepath (as fs.FS methods and
// ns.FS, ns.ConsoleFS and ns.ControlFS have them).
var openers = map[string]bool{
	"Open": true, "OpenFile": true, "ReadFile": true, "ReadDir": true, "Stat": true, "Lstat": true,
	"Create": true, "WriteFile": true, "Remove": true, "RemoveAll": true, "Chmod": true, "Chtimes": true,
	"Readlink": true, "DirFS": true, "Sub": true, "Glob": true, "WalkDir": true, "Walk": true,
	"OpenConsole": true, "WriteControl": true, "Mkdir": true, "MkdirAll": true,
}

// kernelName matches a name under /dev, /net or /proc (rooted or not,
// or the first element of a path to be joined) or a kernel device name.
var kernelName = regexp.MustCompile(`^/?(dev|net|proc)(/|$)|^#[^ /]`)

func kernelPathUses(fset *token.FileSet, files []*ast.File) []kernelPathUse {
	funcs := map[string]*ast.FuncDecl{}
	values := map[string]ast.Expr{} // package-level constants and variables
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					funcs[d.Name.Name] = d
				}
			case *ast.GenDecl:
				addValues(values, d)
			}
		}
	}
	var out []kernelPathUse
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			fn, ok := n.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				return true
			}
			locals := map[string]ast.Expr{}
			for k, v := range values {
				locals[k] = v
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.AssignStmt:
					for i, l := range n.Lhs {
						if id, ok := l.(*ast.Ident); ok && i < len(n.Rhs) && len(n.Lhs) == len(n.Rhs) {
							locals[id.Name] = n.Rhs[i]
						}
					}
				case *ast.DeclStmt:
					if g, ok := n.Decl.(*ast.GenDecl); ok {
						addValues(locals, g)
					}
				case *ast.CallExpr:
					sel, ok := n.Fun.(*ast.SelectorExpr)
					if !ok || !openers[sel.Sel.Name] || len(n.Args) == 0 {
						return true
					}
					if name, found := kernelIn(n.Args[0], funcs, locals, 0); found {
						out = append(out, kernelPathUse{fset.Position(n.Pos()), exprString(sel), name})
					}
				}
				return true
			})
			return false
		})
	}
	return out
}

func addValues(values map[string]ast.Expr, d *ast.GenDecl) {
	for _, s := range d.Specs {
		if vs, ok := s.(*ast.ValueSpec); ok {
			for i, id := range vs.Names {
				if i < len(vs.Values) {
					values[id.Name] = vs.Values[i]
				}
			}
		}
	}
}

// kernelIn looks for a kernel name in what e evaluates from: its string
// literals, the values of the names it uses, and what the package's
// functions it calls return.
func kernelIn(e ast.Expr, funcs map[string]*ast.FuncDecl, values map[string]ast.Expr, depth int) (string, bool) {
	if depth > 4 || e == nil {
		return "", false
	}
	var name string
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if found {
			return false
		}
		switch n := n.(type) {
		case *ast.BasicLit:
			if n.Kind == token.STRING {
				if s, err := strconv.Unquote(n.Value); err == nil && kernelName.MatchString(s) {
					name, found = s, true
				}
			}
		case *ast.Ident:
			if v, ok := values[n.Name]; ok {
				inner := map[string]ast.Expr{}
				for k, x := range values {
					if k != n.Name {
						inner[k] = x
					}
				}
				name, found = kernelIn(v, funcs, inner, depth+1)
			}
		case *ast.CallExpr:
			if id, ok := n.Fun.(*ast.Ident); ok {
				if fd, ok := funcs[id.Name]; ok && fd.Body != nil {
					ast.Inspect(fd.Body, func(m ast.Node) bool {
						if r, ok := m.(*ast.ReturnStmt); ok && !found {
							for _, x := range r.Results {
								if s, ok := kernelIn(x, funcs, values, depth+1); ok {
									name, found = s, true
								}
							}
						}
						return !found
					})
				}
			}
		}
		return !found
	})
	return name, found
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.CallExpr:
		return exprString(e.Fun) + "(…)"
	}
	return "…"
}
