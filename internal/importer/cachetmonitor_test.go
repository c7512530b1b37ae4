package importer

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCachetMonitorGolden(t *testing.T) {
	fixtures, err := filepath.Glob("testdata/cachet-monitor/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fixtures {
		if strings.Contains(f, ".golden.") || strings.HasSuffix(f, ".warnings.txt") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			in := readFile(t, f)
			res, err := CachetMonitor(in, CachetMonitorOptions{Source: filepath.Base(f)})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, f+".golden.yml", res.YAML)
			golden(t, f+".warnings.txt", warningsText(res.Warnings))
			load(t, res.YAML)
			raw, err := decode(in)
			if err != nil {
				t.Fatal(err)
			}
			assertEveryKeyAccounted(t, raw, res)
		})
	}
}
