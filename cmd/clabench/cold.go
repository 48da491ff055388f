package main

import (
	"database/sql"
	"net/http"
	"sort"
	"sync"
	"time"
)

// coldName is the cold line's name in the report.
const coldName = "/registre, cold: first requests after a register change"

// coldRounds is how many register changes the cold line makes.
const coldRounds = 30

// coldLines measures what a miss of the page cache costs under load: 32
// connections ask for /registre at the same instant, right after a register
// change has dropped it on the app (a generation bump and its NOTIFY, as a
// decision's transaction sends them). The cache renders the page once (single
// flight) while the others wait for that render; p50 and p99 are those of
// these first requests, req/s the requests answered per second of burst.
func coldLines(o options, db *sql.DB, app string) []line {
	if o.only != nil && !o.only.MatchString(coldName) {
		return nil
	}
	const conns = 32
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	get := func() (time.Duration, bool) {
		req, _ := http.NewRequest(http.MethodGet, app+"/registre", nil)
		t0 := time.Now()
		resp, err := client.Do(browserLike(req))
		if err != nil {
			return 0, false
		}
		buf := make([]byte, 32<<10)
		for {
			if _, rerr := resp.Body.Read(buf); rerr != nil {
				break
			}
		}
		resp.Body.Close()
		return time.Since(t0), resp.StatusCode == http.StatusOK
	}
	// Open the connections and warm the page.
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() { defer wg.Done(); get() }()
	}
	wg.Wait()
	var lat []time.Duration
	var errors int64
	var busy time.Duration
	for round := 0; round < coldRounds; round++ {
		if _, err := db.Exec("SELECT page_generations_bump(ARRAY(SELECT id FROM councils), 'register')"); err != nil {
			logf("  cold: %v", err)
			return nil
		}
		time.Sleep(50 * time.Millisecond) // the NOTIFY reaches the app
		var mu sync.Mutex
		start := make(chan struct{})
		t0 := time.Now()
		for w := 0; w < conns; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				d, ok := get()
				mu.Lock()
				defer mu.Unlock()
				if ok {
					lat = append(lat, d)
				} else {
					errors++
				}
			}()
		}
		close(start)
		wg.Wait()
		busy += time.Since(t0)
	}
	if len(lat) == 0 {
		return nil
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := result{rps: float64(len(lat)) / busy.Seconds(), p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], errors: errors, n: len(lat)}
	logf("%-44s %3d conns  %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms  errors %d", coldName, conns, r.rps, ms(r.p50), ms(r.p99), r.errors)
	return []line{{scenario: coldName, target: "cold", conns: conns, result: r}}
}
