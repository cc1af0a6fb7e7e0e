package scanners

import (
	"reflect"
	"testing"
)

// TestInventoriesArePlainData checks that every scanner's inventory type
// survives the JSON round trip of a saved inventory: only exported fields
// (or fields tagged json:"-" that no check reads), no interface, func,
// channel or error anywhere in it, and maps keyed by strings.
func TestInventoriesArePlainData(t *testing.T) {
	for _, sc := range All() {
		typed, ok := sc.(interface{ InventoryType() reflect.Type })
		if !ok {
			t.Errorf("%s: scanner has no InventoryType (not a check.Service?)", sc.Service())
			continue
		}
		seen := map[reflect.Type]bool{}
		var walk func(path string, typ reflect.Type)
		walk = func(path string, typ reflect.Type) {
			if seen[typ] {
				return
			}
			seen[typ] = true
			switch typ.Kind() {
			case reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer, reflect.Complex64, reflect.Complex128:
				t.Errorf("%s: %s is a %s, which does not survive JSON", sc.Service(), path, typ)
			case reflect.Pointer, reflect.Slice, reflect.Array:
				walk(path+"[]", typ.Elem())
			case reflect.Map:
				if typ.Key().Kind() != reflect.String {
					t.Errorf("%s: %s is a map keyed by %s", sc.Service(), path, typ.Key())
				}
				walk(path+"{}", typ.Elem())
			case reflect.Struct:
				if typ.PkgPath() == "time" && typ.Name() == "Time" {
					return
				}
				for i := range typ.NumField() {
					f := typ.Field(i)
					if f.Tag.Get("json") == "-" {
						continue
					}
					if !f.IsExported() {
						t.Errorf("%s: %s.%s is unexported: a saved inventory would lose it", sc.Service(), path, f.Name)
						continue
					}
					walk(path+"."+f.Name, f.Type)
				}
			}
		}
		walk(sc.Service()+".Inventory", typed.InventoryType())
	}
}
