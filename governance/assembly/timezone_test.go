package assembly_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"cla/app"
	"cla/app/apptest"
	"cla/demo"
	"cla/internal/authz"
	"cla/internal/testdb"
	"cla/internal/webtest"
)

// A council keeps its own clock: a meeting typed for 18:30 on Réunion is
// 18:30 on Réunion (14:30 UTC), and its pages and minutes say 18h30, while
// the same form on the demo council (Europe/Paris) means 17:30 UTC.
func TestMeetingTimesAreInTheCouncilsTimeZone(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := context.Background()
	paris, err := demo.Load(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var reunion int64
	if err := db.NewRaw(`INSERT INTO councils (slug, name, timezone) VALUES ('reunion', 'Conseil de La Réunion', 'Indian/Reunion') RETURNING id`).Scan(ctx, &reunion); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO council_hosts (host, council_id) VALUES ('reunion.test', ?)", reunion); err != nil {
		t.Fatal(err)
	}
	a := apptest.New(t, db, app.Config{})
	for _, tc := range []struct {
		council int64
		wantUTC time.Time
	}{
		{reunion, time.Date(2026, 12, 9, 14, 30, 0, 0, time.UTC)},
		{paris.ID, time.Date(2026, 12, 9, 17, 30, 0, 0, time.UTC)},
	} {
		fac, _ := webtest.SignIn(t, a, db, tc.council, authz.Facilitator)
		res, body := fac.PostForm("/seances", url.Values{"title": {"Séance du soir"}, "starts_at": {"2026-12-09T18:30"},
			"duration": {"120"}, "place": {"Salle"}})
		mpath := location(t, res, body)
		var stored time.Time
		if err := db.NewRaw("SELECT starts_at FROM meetings WHERE id = ?", idOf(t, mpath)).Scan(ctx, &stored); err != nil {
			t.Fatal(err)
		}
		if !stored.Equal(tc.wantUTC) {
			t.Errorf("council %d: stored %s, want %s", tc.council, stored.UTC(), tc.wantUTC)
		}
		_, page := fac.Get(mpath)
		if !strings.Contains(page, "18h30") || !strings.Contains(page, `value="2026-12-09T18:30"`) {
			t.Errorf("council %d: the meeting page does not show 18h30 in the council's time", tc.council)
		}
	}
}
