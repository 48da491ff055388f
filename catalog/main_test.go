package catalog_test

import (
	"testing"
	"time"

	"cla/catalog"
	"cla/internal/testdb"
)

func TestMain(m *testing.M) {
	// A short fallback check, so that a test can see it work.
	catalog.PollInterval = 200 * time.Millisecond
	testdb.Main(m)
}
