package lokavaluto_test

import (
	"testing"

	"cla/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }
