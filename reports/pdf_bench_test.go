package reports

import (
	"bytes"
	"runtime"
	"testing"
)

// BenchmarkPDF100k renders the report of one framework over a scan of
// about 100,000 results, every one of them evidence for the framework's
// controls (NIST SP 800-53 maps all 46 checks), including the SHA-256 of
// the scan's scan.json. The page budget keeps the PDF bounded.
func BenchmarkPDF100k(b *testing.B) {
	scan := realisticScan(b, fixture{perCheck: 440, frameworks: []string{"nist-800-53-r5"}})
	in := Input{Scan: scan}
	covered := 0
	checks := map[string]bool{}
	for _, c := range scan.Controls {
		for _, id := range c.Checks {
			checks[id] = true
		}
	}
	for _, r := range scan.Results {
		if checks[r.CheckID] {
			covered++
		}
	}
	if len(scan.Results) < 100000 || covered != len(scan.Results) {
		b.Fatalf("%d results, %d of them evidence for the framework", len(scan.Results), covered)
	}
	// The scan itself, held in memory as the CLI holds it, for comparison
	// with the process's peak RSS.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	scanHeap := float64(ms.HeapAlloc) / (1 << 20)
	b.ResetTimer()
	var size, pages int
	for b.Loop() {
		files := (PDF{}).Files(in)
		if len(files) != 1 {
			b.Fatalf("%d files", len(files))
		}
		var buf bytes.Buffer
		if err := files[0].Render(&buf); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
		pages = bytes.Count(buf.Bytes(), []byte("/Type /Page\n"))
	}
	b.ReportMetric(float64(len(scan.Results)), "results")
	b.ReportMetric(float64(pages), "pages")
	b.ReportMetric(float64(size)/1e6, "MB/pdf")
	b.ReportMetric(scanHeap, "MiB-scan-heap")
}
