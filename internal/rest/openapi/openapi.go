// Package openapi holds the OpenAPI 3.1 document of the REST compatibility
// layer, served at GET /api/doc.json. It is written as YAML fragments, one
// per route group (base.yaml holds the shared parts), so the groups can be
// edited independently; JSON merges them and fails on a duplicate path,
// operation or component, so two groups cannot silently overwrite each
// other.
package openapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"sync"

	"github.com/goccy/go-yaml"

	"github.com/conecrm/gateway/internal/registry"
)

//go:embed *.yaml
var fragments embed.FS

// baseFile holds the document's head: openapi, info, security and the
// shared components. The other fragments may only add paths, components
// and tags.
const baseFile = "base.yaml"

var merged = sync.OnceValues(func() ([]byte, error) {
	doc, err := merge(fragments)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
})

// JSON returns the merged document as JSON.
func JSON() ([]byte, error) { return merged() }

func merge(fsys fs.FS) (map[string]any, error) {
	doc, err := load(fsys, baseFile)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		if name == baseFile {
			continue
		}
		frag, err := load(fsys, name)
		if err != nil {
			return nil, err
		}
		if err := mergeFragment(doc, frag); err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", name, err)
		}
	}
	if err := mergeUnique(object(object(doc, "components"), "schemas"), map[string]any{"FilterRows": filterRows()}, "components.schemas"); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return doc, nil
}

// filterRows is the FilterRows schema, the rows the filter route answers
// (querybuilder.yaml): an array of one filterable entity's records, whose
// schema is named as its registry type (Lead, FollowUp, Note…). It is
// built from the registry, so a new filterable entity adds no line here;
// a type without a schema of that name fails the document's validation.
func filterRows() map[string]any {
	var rows []any
	for _, e := range registry.Filterable() {
		rows = append(rows, map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/" + e.Type}})
	}
	return map[string]any{"description": "The rows of one filterable entity, as its own routes serialize them.", "anyOf": rows}
}

func load(fsys fs.FS, name string) (map[string]any, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", name, err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", name, err)
	}
	return m, nil
}

func mergeFragment(doc, frag map[string]any) error {
	for key, v := range frag {
		switch key {
		case "paths":
			if err := mergePaths(object(doc, "paths"), v); err != nil {
				return err
			}
		case "components":
			sections, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("components must be an object")
			}
			for section, entries := range sections {
				if err := mergeUnique(object(object(doc, "components"), section), entries, "components."+section); err != nil {
					return err
				}
			}
		case "tags":
			tags, ok := v.([]any)
			if !ok {
				return fmt.Errorf("tags must be a list")
			}
			existing, _ := doc["tags"].([]any)
			doc["tags"] = append(existing, tags...)
		default:
			return fmt.Errorf("only paths, components and tags may be added, not %q", key)
		}
	}
	return nil
}

// mergePaths adds operations path by path, so two groups may share a path
// with different methods but never define the same operation twice.
func mergePaths(paths map[string]any, v any) error {
	add, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("paths must be an object")
	}
	for path, item := range add {
		if err := mergeUnique(object(paths, path), item, "paths."+path); err != nil {
			return err
		}
	}
	return nil
}

func mergeUnique(dst map[string]any, v any, where string) error {
	add, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s must be an object", where)
	}
	for k, e := range add {
		if _, dup := dst[k]; dup {
			return fmt.Errorf("%s.%s is defined twice", where, k)
		}
		dst[k] = e
	}
	return nil
}

// object returns m[key] as an object, creating it when missing.
func object(m map[string]any, key string) map[string]any {
	o, ok := m[key].(map[string]any)
	if !ok {
		o = map[string]any{}
		m[key] = o
	}
	return o
}
