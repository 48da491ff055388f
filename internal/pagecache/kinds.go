package pagecache

import "time"

// Kind is a kind of data a council's public pages show. A change to a table
// bumps its kind's generation for the council (the triggers of migration
// 0031, in the transaction of the change, whatever code writes), and the pages
// the kind affects (Affects) are dropped on every instance.
type Kind string

// The kinds of data. The table → kind mapping is in migration 0031, one
// trigger per table; a new table shown on a public page needs its trigger
// there (a new migration) and its kind here.
const (
	// KindCouncil: the council's name, presentation and settings (councils),
	// shown in every page's header and footer.
	KindCouncil Kind = "council"
	// KindRegister: register items, versions and their history.
	KindRegister Kind = "register"
	// KindShops: points de vente, their categories and product lists.
	KindShops Kind = "shops"
	// KindBoussole: the boussole's versions, groups and criteria.
	KindBoussole Kind = "boussole"
	// KindDebates: debates, their links to items and proposals, supports and
	// suggestions.
	KindDebates Kind = "debates"
	// KindArguments: arguments and their revisions (added, edited, hidden).
	KindArguments Kind = "arguments"
	// KindProposals: proposals, their events, scores and register changes.
	KindProposals Kind = "proposals"
	// KindDecisions: decisions, recorded or imported.
	KindDecisions Kind = "decisions"
	// KindMeetings: meetings, agendas, attendance, votes (not ballots) and proxies.
	KindMeetings Kind = "meetings"
	// KindMinutes: minutes and their amendments.
	KindMinutes Kind = "minutes"
	// KindMembers: members' names and roles, shown next to what they wrote.
	KindMembers Kind = "members"
)

// Page is a group of public pages cached together: a change drops every
// cached page of the groups its kind affects.
type Page string

// The cached page groups, with their routes.
const (
	PageHome      Page = "home"      // /
	PageRegister  Page = "register"  // /registre, its versions, changes and items
	PageShops     Page = "shops"     // /points-de-vente, each shop's page and cashier page
	PagePosters   Page = "posters"   // /points-de-vente/:slug/affiche, one per shop and host
	PageOpenData  Page = "open-data" // /api/v1/register…, /api/v1/shops…, register.csv, shops.csv
	PageDebates   Page = "debates"   // /debats, /debats/souhaites
	PageDebate    Page = "debate"    // /debats/:slug and its arguments' pages
	PageSearch    Page = "search"    // /recherche
	PageProposals Page = "proposals" // /propositions, /propositions/comparer
	PageProposal  Page = "proposal"  // /propositions/:id and its radar
	PageDecisions Page = "decisions" // /decisions, /decisions/:id
	PageMeetings  Page = "meetings"  // /seances, /seances/:id, its convocation and pack
	PageMinutes   Page = "minutes"   // /seances/:id/compte-rendu
	PageFeeds     Page = "feeds"     // /decisions.atom, /meetings.ics
	PageBoussole  Page = "boussole"  // /boussole, /boussole/versions
)

// allPages lists every page group.
var allPages = []Page{PageHome, PageRegister, PageShops, PagePosters, PageOpenData, PageDebates, PageDebate, PageSearch,
	PageProposals, PageProposal, PageDecisions, PageMeetings, PageMinutes, PageFeeds, PageBoussole}

// Affects is THE dependency table: for each kind of data, the page groups
// that show it. It errs on the side of dropping: a page dropped for nothing is
// rendered once more, a page kept wrongly is stale until the next change.
// cmd/cla's TestPagesNeverStale changes each kind through its real handler
// and checks the pages that show it, on a second instance.
var Affects = map[Kind][]Page{
	// Every page's header names the council.
	KindCouncil: allPages,
	// The register: its pages, the home summary, open data, shops' pages
	// (what they may sell), search, the items linked from debates and
	// proposals, and decisions (their register changes).
	KindRegister: {PageHome, PageRegister, PageShops, PagePosters, PageOpenData, PageSearch, PageDebates, PageDebate,
		PageProposals, PageProposal, PageDecisions, PageFeeds},
	// Shops: their pages and posters, the items' pages (where to buy), open
	// data, and the proposals that target a shop.
	KindShops: {PageHome, PageRegister, PageShops, PagePosters, PageOpenData, PageSearch, PageProposals, PageProposal, PageDecisions},
	// The boussole: its pages, the criteria of arguments and of proposals' scores.
	KindBoussole: {PageBoussole, PageDebates, PageDebate, PageProposals, PageProposal, PageSearch},
	// Debates: their list and pages, search, the links from items and
	// proposals, and the requested debates a meeting's agenda builder offers.
	KindDebates: {PageHome, PageDebates, PageDebate, PageSearch, PageRegister, PageProposals, PageProposal, PageMeetings},
	// An argument: its debate (and its page), the debates list (counts), search,
	// and the proposals whose debates show counts.
	KindArguments: {PageDebates, PageDebate, PageSearch, PageProposal},
	// Proposals: their pages, the debates and items linking them, search, and
	// the meetings and decisions that name them.
	KindProposals: {PageProposals, PageProposal, PageDebates, PageDebate, PageSearch, PageRegister,
		PageDecisions, PageMeetings, PageMinutes, PageFeeds},
	// A decision: the register (the decision behind a version), decisions,
	// meetings, feeds, and the proposal it decided.
	KindDecisions: {PageHome, PageRegister, PageDecisions, PageMeetings, PageMinutes, PageFeeds,
		PageProposals, PageProposal, PageOpenData},
	// A meeting scheduled or changed, a vote opened or closed.
	KindMeetings: {PageHome, PageMeetings, PageMinutes, PageFeeds, PageDecisions, PageProposals, PageProposal},
	// Minutes drafted, amended or approved.
	KindMinutes: {PageMeetings, PageMinutes, PageDecisions, PageFeeds},
	// Names and roles next to arguments, proposals, attendance and minutes.
	KindMembers: {PageDebates, PageDebate, PageProposals, PageProposal, PageMeetings, PageMinutes, PageDecisions, PageSearch},
}

// MaxAge bounds how long the page groups whose content depends on the clock
// stay cached without any change: a meeting moves from "à venir" to "passées"
// when it ends, not when a row changes. Other groups have no bound.
var MaxAge = map[Page]time.Duration{
	PageMeetings: 30 * time.Second,
	PageFeeds:    30 * time.Second,
	PageMinutes:  30 * time.Second,
	PageHome:     30 * time.Second,
}
