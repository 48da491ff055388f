// Package authz is the one table of who may do what: every handler that acts
// for a signed-in person asks Can before doing anything.
package authz

// Role is a membership's role in one council. An account has no role in a
// council it is not a member of.
type Role string

// The roles, from least to most rights.
const (
	None        Role = ""
	Member      Role = "member"      // membre du CLA
	Facilitator Role = "facilitator" // animateur·ice
	Admin       Role = "admin"       // runs the council's settings
)

// Label is the role in French.
func (r Role) Label() string {
	switch r {
	case Member:
		return "Membre du CLA"
	case Facilitator:
		return "Animateur·ice"
	case Admin:
		return "Administrateur·ice"
	}
	return "Visiteur"
}

// Action is something a person may try to do in a council.
type Action string

// Actions. Each domain adds its own here, with its row in the table below.
const (
	// Register (catalog).
	EditItemWording Action = "register_item.edit_wording" // fix typos and descriptions, no status change
	BasketEdit      Action = "shop.basket_edit"           // edit any shop's product list (the shop edits its own through its private link)

	// Integrations: webhook endpoints and their delivery log (governance/integration).
	ManageIntegrations Action = "integration.manage" // add, test, rotate, delete endpoints; read the log, re-send
	// The payment tool's connector (governance/lokavaluto).
	ManageOdoo Action = "odoo.manage" // link shops to Odoo partners, see the dry run and failed pushes, push now

	// Members, accounts and the audit trail (governance/member, internal/auth).
	MemberList         Action = "member.list"          // the management list, with emails and invitations
	MemberInvite       Action = "member.invite"        // invite someone as member or facilitator
	MemberPasswordLink Action = "member.password_link" // create a password reset link for a member
	MemberDisable      Action = "member.disable"       // disable or re-enable a membership
	MemberSetRole      Action = "member.role"          // change a member's role
	MemberManageAdmin  Action = "member.manage_admin"  // invite, change, reset or disable an admin
	AuditRead          Action = "audit.read"           // read the audit trail

	// Proposals and scoring (governance/proposal).
	CreateProposal   Action = "proposal.create"      // write a proposal (a draft)
	PublishProposal  Action = "proposal.publish"     // open one's own draft to scoring and debate
	WithdrawProposal Action = "proposal.withdraw"    // withdraw one's own proposal before the vote
	ScheduleProposal Action = "proposal.schedule"    // put on (or take off) an agenda, open the vote
	DecideProposal   Action = "proposal.decide"      // record adopted / rejected / adjourned
	ApplyProposal    Action = "proposal.apply"       // mark an adopted proposal applied
	ScoreProposal    Action = "proposal.score"       // grade a proposal against the boussole
	ReadScoreDetails Action = "proposal.read_scores" // see each member's grades and comments

	// The boussole (governance/boussole). Later versions come only from an
	// adopted proposal of kind boussole.
	PublishFirstBoussole Action = "boussole.publish_first" // write version 1 directly, while the council has none

	// Debates, arguments and the backlog of requested debates (governance/debate).
	AddArgument      Action = "argument.add"      // write an argument or a reply in an open debate
	EditOwnArgument  Action = "argument.edit_own" // rewrite one's own argument (history kept)
	HideArgument     Action = "argument.hide"     // hide an argument, with a reason shown to all
	EditDebate       Action = "debate.edit"       // write context and synthesis, link register items
	ChangeDebate     Action = "debate.state"      // open a requested debate, close one with a conclusion
	SupportDebate    Action = "debate.support"    // support a requested debate (one per member)
	ReviewSuggestion Action = "debate.review"     // accept or refuse topics suggested by the public

	// Shop applications, the charter, renewals and the export (governance/application).
	ApplicationRead    Action = "application.read"    // list and read shops' applications, renewals
	ApplicationComment Action = "application.comment" // comment an application internally
	ApplicationManage  Action = "application.manage"  // ask the shop questions, change state, turn into a proposal
	ShopExport         Action = "shop.export"         // export points de vente with contact details
	CharterEdit        Action = "charter.edit"        // publish a charter version, set the convention period

	// Meetings, votes and decisions (governance/assembly).
	ManageMeeting    Action = "meeting.manage"     // schedule meetings, build agendas, take the roll, open and close votes, edit and approve minutes
	SetMeetingRules  Action = "meeting.rules"      // set the council's quorum rule
	CastBallot       Action = "vote.cast"          // vote online in a meeting (when present) or within a time window
	ReadDraftMinutes Action = "minutes.read_draft" // read minutes before their approval
	GiveProxy        Action = "proxy.give"         // give (or revoke) one's proxy for a meeting; the facilitator records paper ones
	AmendMinutes     Action = "minutes.amend"      // suggest an amendment to the draft minutes of a meeting one attended

	// The council's own settings (governance/instance). The instance's
	// operators are no role of a council: their pages check the operators
	// table, and they have no action here without a membership.
	CouncilSettings Action = "council.settings" // name, presentation, contact, host names, register public or private
	// Notifications (governance/notify).
	NotifyOwn Action = "notify.own" // choose one's notifications in the council, see what was sent to oneself
	NotifyLog Action = "notify.log" // see every mail's delivery state, re-send one
)

// table lists, for each action, the roles allowed to do it. An action missing
// here is allowed to no one.
var table = map[Action][]Role{
	EditItemWording: {Facilitator, Admin},
	BasketEdit:      {Facilitator, Admin},

	ManageIntegrations: {Facilitator, Admin},
	ManageOdoo:         {Facilitator, Admin},

	MemberList:         {Facilitator, Admin},
	MemberInvite:       {Facilitator, Admin},
	MemberPasswordLink: {Facilitator, Admin},
	MemberDisable:      {Facilitator, Admin},
	MemberSetRole:      {Admin},
	MemberManageAdmin:  {Admin},
	AuditRead:          {Facilitator, Admin},

	CreateProposal:   {Member, Facilitator, Admin},
	PublishProposal:  {Member, Facilitator, Admin},
	WithdrawProposal: {Member, Facilitator, Admin},
	ScheduleProposal: {Facilitator, Admin},
	DecideProposal:   {Facilitator, Admin},
	ApplyProposal:    {Facilitator, Admin},
	ScoreProposal:    {Member, Facilitator, Admin},
	ReadScoreDetails: {Member, Facilitator, Admin},

	PublishFirstBoussole: {Admin},

	AddArgument:      {Member, Facilitator, Admin},
	EditOwnArgument:  {Member, Facilitator, Admin},
	HideArgument:     {Facilitator, Admin},
	EditDebate:       {Facilitator, Admin},
	ChangeDebate:     {Facilitator, Admin},
	SupportDebate:    {Member, Facilitator, Admin},
	ReviewSuggestion: {Facilitator, Admin},

	ApplicationRead:    {Member, Facilitator, Admin},
	ApplicationComment: {Member, Facilitator, Admin},
	ApplicationManage:  {Facilitator, Admin},
	ShopExport:         {Facilitator, Admin},
	CharterEdit:        {Facilitator, Admin},

	ManageMeeting:    {Facilitator, Admin},
	SetMeetingRules:  {Admin},
	CastBallot:       {Member, Facilitator, Admin},
	ReadDraftMinutes: {Member, Facilitator, Admin},
	GiveProxy:        {Member, Facilitator, Admin},
	AmendMinutes:     {Member, Facilitator, Admin},

	CouncilSettings: {Admin},
	NotifyOwn:       {Member, Facilitator, Admin},
	NotifyLog:       {Facilitator, Admin},
}

// Can reports whether role may do action in its council.
func Can(role Role, action Action) bool {
	for _, r := range table[action] {
		if r == role {
			return true
		}
	}
	return false
}
