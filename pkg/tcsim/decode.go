package tcsim

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// decodeParams decodes a request body into dst (a pointer to a struct) the way Tencent Cloud
// validates parameters: names are matched exactly (encoding/json alone would accept "domain"
// for "Domain"), an unknown name is UnknownParameter, a value of the wrong JSON type is
// InvalidParameter, and a field tagged `tc:"required"` that is absent or null is
// MissingParameter. Every failure is an *apiError; no input makes it panic.
//
// A field without a json tag has its wire name as its Go name, as in encoding/json: the wire
// structs say each name once, and fields of one type share a line.
func decodeParams(body []byte, dst any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if !json.Valid(body) {
		return errorf(codeInvalidParameter, "The request body is not valid JSON.")
	}
	if body[0] != '{' {
		return errorf(codeInvalidParameter, "The request body must be a JSON object.")
	}
	return decodeValue(body, reflect.ValueOf(dst).Elem(), "")
}

func decodeValue(raw []byte, v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer:
		if isJSONNull(raw) {
			v.SetZero()
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return decodeValue(raw, v.Elem(), path)
	case reflect.Struct:
		return decodeObject(raw, v, path)
	case reflect.Slice:
		if isJSONNull(raw) {
			v.SetZero()
			return nil
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return wrongType(path, "Array")
		}
		s := reflect.MakeSlice(v.Type(), len(items), len(items))
		for i, item := range items {
			if err := decodeValue(item, s.Index(i), joinPath(path, strconv.Itoa(i))); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	default:
		if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
			return wrongType(path, jsonTypeName(v.Kind()))
		}
		return nil
	}
}

func decodeObject(raw []byte, v reflect.Value, path string) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return wrongType(path, "Object")
	}
	fields := paramFields(v.Type())
	names := make([]string, 0, len(members))
	for name := range members {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.ContainsFunc(fields, func(f paramField) bool { return f.name == name }) {
			return errorf(codeUnknownParameter, "The parameter `%s` is not recognized.", joinPath(path, name))
		}
	}
	for _, f := range fields {
		if m, ok := members[f.name]; ok {
			if err := decodeValue(m, v.FieldByIndex(f.index), joinPath(path, f.name)); err != nil {
				return err
			}
		}
	}
	for _, f := range fields {
		if f.required && v.FieldByIndex(f.index).IsZero() {
			return errorf(codeMissingParameter, "The request is missing a required parameter `%s`.", joinPath(path, f.name))
		}
	}
	return nil
}

type paramField struct {
	name     string
	index    []int // for reflect.Value.FieldByIndex: embedded structs' fields count as the outer's
	required bool
}

// paramFields lists the JSON names a struct accepts. It is computed per call rather than
// cached: the structs are small and a cache would be package-level mutable state.
func paramFields(t reflect.Type) []paramField {
	var fields []paramField
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			// An embedded struct's fields are the outer object's, as in encoding/json.
			for _, inner := range paramFields(sf.Type) {
				inner.index = append([]int{i}, inner.index...)
				fields = append(fields, inner)
			}
			continue
		}
		if !sf.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		fields = append(fields, paramField{name: name, index: []int{i}, required: sf.Tag.Get("tc") == "required"})
	}
	return fields
}

func wrongType(path, want string) error {
	if path == "" {
		return errorf(codeInvalidParameter, "The request body must be a JSON object.")
	}
	return errorf(codeInvalidParameter, "The value of parameter `%s` has the wrong type; expected %s.", path, want)
}

func jsonTypeName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "String"
	case reflect.Bool:
		return "Boolean"
	case reflect.Float32, reflect.Float64:
		return "Float"
	default:
		return "Integer"
	}
}

func isJSONNull(raw []byte) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
