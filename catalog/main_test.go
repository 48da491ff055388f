package catalog_test

import (
	"testing"
	"time"

	"cla/internal/pagecache"
	"cla/internal/testdb"
)

func TestMain(m *testing.M) {
	// A short fallback check, so that a test can see it work.
	pagecache.PollInterval = 200 * time.Millisecond
	testdb.Main(m)
}
