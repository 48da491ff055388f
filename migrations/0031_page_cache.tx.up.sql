-- The page cache (internal/pagecache, docs/decisions.md "One cache for the
-- public pages"): each council's public pages are cached on every instance and
-- dropped when the data they show change. A change bumps the generation of its
-- kind of data for its council and sends a NOTIFY on cla_pages ("council:kind"),
-- both in the transaction of the change, by the triggers below: whatever code
-- writes (a handler, a job, a command, the demo), no page stays stale. The
-- generations are the fallback that instances poll when a NOTIFY is lost.
-- The kinds and the pages each affects are listed once, in
-- internal/pagecache/kinds.go. Ballots have no trigger: they are cast by the
-- thousand a second, and no cached page shows a vote's live count.
CREATE TABLE page_generations (
    council_id bigint NOT NULL,
    kind       text NOT NULL CHECK (kind ~ '^[a-z_]{1,32}$'),
    generation bigint NOT NULL DEFAULT 1,
    PRIMARY KEY (council_id, kind)
);

-- Bumps kind for the councils (in id order, so that two transactions lock
-- the rows of several councils in the same order), and notifies.
CREATE FUNCTION page_generations_bump(councils bigint[], of_kind text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO page_generations AS g (council_id, kind)
    SELECT DISTINCT u.c, of_kind FROM unnest(councils) AS u (c) WHERE u.c IS NOT NULL ORDER BY 1
    ON CONFLICT ON CONSTRAINT page_generations_pkey DO UPDATE SET generation = g.generation + 1;
    PERFORM pg_notify('cla_pages', d.c::text || ':' || of_kind)
    FROM (SELECT DISTINCT c FROM unnest(councils) AS u (c) WHERE c IS NOT NULL) AS d;
END;
$$;

-- The statement-level trigger of every table a public page shows: one bump
-- per statement, whatever the number of rows (bulk imports stay cheap). The
-- kind is the trigger's argument. (A transition table is named only for the
-- events that have it: each branch reads its own.)
CREATE FUNCTION page_generations_touch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    councils bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT council_id) INTO councils FROM changed_new;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT council_id) INTO councils FROM changed_old;
    ELSE
        SELECT array_agg(DISTINCT c) INTO councils
        FROM (SELECT council_id FROM changed_old UNION SELECT council_id FROM changed_new) AS u (c);
    END IF;
    PERFORM page_generations_bump(councils, TG_ARGV[0]);
    RETURN NULL;
END;
$$;


-- Kind register.
CREATE TRIGGER register_items_pages_insert AFTER INSERT ON register_items
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('register');
CREATE TRIGGER register_items_pages_update AFTER UPDATE ON register_items
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('register');
CREATE TRIGGER register_items_pages_delete AFTER DELETE ON register_items
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('register');
CREATE TRIGGER register_versions_pages_insert AFTER INSERT ON register_versions
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('register');
CREATE TRIGGER register_versions_pages_update AFTER UPDATE ON register_versions
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('register');
CREATE TRIGGER register_versions_pages_delete AFTER DELETE ON register_versions
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('register');
CREATE TRIGGER register_item_history_pages_insert AFTER INSERT ON register_item_history
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('register');
CREATE TRIGGER register_item_history_pages_update AFTER UPDATE ON register_item_history
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('register');
CREATE TRIGGER register_item_history_pages_delete AFTER DELETE ON register_item_history
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('register');

-- Kind shops.
CREATE TRIGGER shops_pages_insert AFTER INSERT ON shops
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shops_pages_update AFTER UPDATE ON shops
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shops_pages_delete AFTER DELETE ON shops
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shop_categories_pages_insert AFTER INSERT ON shop_categories
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shop_categories_pages_update AFTER UPDATE ON shop_categories
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shop_categories_pages_delete AFTER DELETE ON shop_categories
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shop_products_pages_insert AFTER INSERT ON shop_products
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shop_products_pages_update AFTER UPDATE ON shop_products
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shop_products_pages_delete AFTER DELETE ON shop_products
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shop_products_removed_pages_insert AFTER INSERT ON shop_products_removed
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shop_products_removed_pages_update AFTER UPDATE ON shop_products_removed
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shop_products_removed_pages_delete AFTER DELETE ON shop_products_removed
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER basket_item_periods_pages_insert AFTER INSERT ON basket_item_periods
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER basket_item_periods_pages_update AFTER UPDATE ON basket_item_periods
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER basket_item_periods_pages_delete AFTER DELETE ON basket_item_periods
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER basket_shop_periods_pages_insert AFTER INSERT ON basket_shop_periods
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER basket_shop_periods_pages_update AFTER UPDATE ON basket_shop_periods
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER basket_shop_periods_pages_delete AFTER DELETE ON basket_shop_periods
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shop_basket_marks_pages_insert AFTER INSERT ON shop_basket_marks
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shop_basket_marks_pages_update AFTER UPDATE ON shop_basket_marks
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');
CREATE TRIGGER shop_basket_marks_pages_delete AFTER DELETE ON shop_basket_marks
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('shops');

-- Kind boussole.
CREATE TRIGGER boussole_versions_pages_insert AFTER INSERT ON boussole_versions
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('boussole');
CREATE TRIGGER boussole_versions_pages_update AFTER UPDATE ON boussole_versions
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('boussole');
CREATE TRIGGER boussole_versions_pages_delete AFTER DELETE ON boussole_versions
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('boussole');
CREATE TRIGGER criterion_groups_pages_insert AFTER INSERT ON criterion_groups
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('boussole');
CREATE TRIGGER criterion_groups_pages_update AFTER UPDATE ON criterion_groups
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('boussole');
CREATE TRIGGER criterion_groups_pages_delete AFTER DELETE ON criterion_groups
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('boussole');
CREATE TRIGGER criteria_pages_insert AFTER INSERT ON criteria
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('boussole');
CREATE TRIGGER criteria_pages_update AFTER UPDATE ON criteria
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('boussole');
CREATE TRIGGER criteria_pages_delete AFTER DELETE ON criteria
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('boussole');

-- Kind debates.
CREATE TRIGGER debates_pages_insert AFTER INSERT ON debates
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debates_pages_update AFTER UPDATE ON debates
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debates_pages_delete AFTER DELETE ON debates
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debate_register_items_pages_insert AFTER INSERT ON debate_register_items
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debate_register_items_pages_update AFTER UPDATE ON debate_register_items
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debate_register_items_pages_delete AFTER DELETE ON debate_register_items
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debate_proposals_pages_insert AFTER INSERT ON debate_proposals
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debate_proposals_pages_update AFTER UPDATE ON debate_proposals
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debate_proposals_pages_delete AFTER DELETE ON debate_proposals
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debate_supports_pages_insert AFTER INSERT ON debate_supports
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debate_supports_pages_update AFTER UPDATE ON debate_supports
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debate_supports_pages_delete AFTER DELETE ON debate_supports
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debate_suggestions_pages_insert AFTER INSERT ON debate_suggestions
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debate_suggestions_pages_update AFTER UPDATE ON debate_suggestions
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');
CREATE TRIGGER debate_suggestions_pages_delete AFTER DELETE ON debate_suggestions
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('debates');

-- Kind arguments.
CREATE TRIGGER arguments_pages_insert AFTER INSERT ON arguments
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('arguments');
CREATE TRIGGER arguments_pages_update AFTER UPDATE ON arguments
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('arguments');
CREATE TRIGGER arguments_pages_delete AFTER DELETE ON arguments
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('arguments');
CREATE TRIGGER argument_revisions_pages_insert AFTER INSERT ON argument_revisions
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('arguments');
CREATE TRIGGER argument_revisions_pages_update AFTER UPDATE ON argument_revisions
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('arguments');
CREATE TRIGGER argument_revisions_pages_delete AFTER DELETE ON argument_revisions
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('arguments');

-- Kind proposals.
CREATE TRIGGER proposals_pages_insert AFTER INSERT ON proposals
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('proposals');
CREATE TRIGGER proposals_pages_update AFTER UPDATE ON proposals
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('proposals');
CREATE TRIGGER proposals_pages_delete AFTER DELETE ON proposals
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('proposals');
CREATE TRIGGER proposal_events_pages_insert AFTER INSERT ON proposal_events
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('proposals');
CREATE TRIGGER proposal_events_pages_update AFTER UPDATE ON proposal_events
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('proposals');
CREATE TRIGGER proposal_events_pages_delete AFTER DELETE ON proposal_events
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('proposals');
CREATE TRIGGER proposal_scores_pages_insert AFTER INSERT ON proposal_scores
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('proposals');
CREATE TRIGGER proposal_scores_pages_update AFTER UPDATE ON proposal_scores
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('proposals');
CREATE TRIGGER proposal_scores_pages_delete AFTER DELETE ON proposal_scores
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('proposals');
CREATE TRIGGER proposal_register_changes_pages_insert AFTER INSERT ON proposal_register_changes
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('proposals');
CREATE TRIGGER proposal_register_changes_pages_update AFTER UPDATE ON proposal_register_changes
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('proposals');
CREATE TRIGGER proposal_register_changes_pages_delete AFTER DELETE ON proposal_register_changes
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('proposals');

-- Kind decisions.
CREATE TRIGGER decisions_pages_insert AFTER INSERT ON decisions
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('decisions');
CREATE TRIGGER decisions_pages_update AFTER UPDATE ON decisions
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('decisions');
CREATE TRIGGER decisions_pages_delete AFTER DELETE ON decisions
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('decisions');
CREATE TRIGGER imported_decisions_pages_insert AFTER INSERT ON imported_decisions
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('decisions');
CREATE TRIGGER imported_decisions_pages_update AFTER UPDATE ON imported_decisions
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('decisions');
CREATE TRIGGER imported_decisions_pages_delete AFTER DELETE ON imported_decisions
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('decisions');

-- Kind meetings.
CREATE TRIGGER meetings_pages_insert AFTER INSERT ON meetings
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER meetings_pages_update AFTER UPDATE ON meetings
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER meetings_pages_delete AFTER DELETE ON meetings
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER agenda_items_pages_insert AFTER INSERT ON agenda_items
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER agenda_items_pages_update AFTER UPDATE ON agenda_items
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER agenda_items_pages_delete AFTER DELETE ON agenda_items
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER attendances_pages_insert AFTER INSERT ON attendances
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER attendances_pages_update AFTER UPDATE ON attendances
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER attendances_pages_delete AFTER DELETE ON attendances
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER votes_pages_insert AFTER INSERT ON votes
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER votes_pages_update AFTER UPDATE ON votes
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER votes_pages_delete AFTER DELETE ON votes
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER vote_options_pages_insert AFTER INSERT ON vote_options
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER vote_options_pages_update AFTER UPDATE ON vote_options
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER vote_options_pages_delete AFTER DELETE ON vote_options
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER proxies_pages_insert AFTER INSERT ON proxies
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER proxies_pages_update AFTER UPDATE ON proxies
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER proxies_pages_delete AFTER DELETE ON proxies
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER meeting_rules_pages_insert AFTER INSERT ON meeting_rules
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER meeting_rules_pages_update AFTER UPDATE ON meeting_rules
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');
CREATE TRIGGER meeting_rules_pages_delete AFTER DELETE ON meeting_rules
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('meetings');

-- Kind minutes.
CREATE TRIGGER minutes_pages_insert AFTER INSERT ON minutes
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('minutes');
CREATE TRIGGER minutes_pages_update AFTER UPDATE ON minutes
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('minutes');
CREATE TRIGGER minutes_pages_delete AFTER DELETE ON minutes
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('minutes');
CREATE TRIGGER minutes_amendments_pages_insert AFTER INSERT ON minutes_amendments
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('minutes');
CREATE TRIGGER minutes_amendments_pages_update AFTER UPDATE ON minutes_amendments
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('minutes');
CREATE TRIGGER minutes_amendments_pages_delete AFTER DELETE ON minutes_amendments
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('minutes');

-- Kind members.
CREATE TRIGGER memberships_pages_insert AFTER INSERT ON memberships
    REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('members');
CREATE TRIGGER memberships_pages_update AFTER UPDATE ON memberships
    REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('members');
CREATE TRIGGER memberships_pages_delete AFTER DELETE ON memberships
    REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION page_generations_touch('members');

-- Kind council: the council's name, presentation and settings (every page's
-- header). Kind members: an account's name, shown next to what it wrote, in
-- every council it belongs to.
CREATE FUNCTION page_generations_council() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM page_generations_bump(ARRAY[NEW.id], 'council');
    RETURN NULL;
END;
$$;
CREATE TRIGGER councils_pages_update AFTER UPDATE ON councils
    FOR EACH ROW EXECUTE FUNCTION page_generations_council();
CREATE FUNCTION page_generations_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM page_generations_bump(ARRAY(SELECT council_id FROM memberships WHERE account_id = NEW.id ORDER BY 1), 'members');
    RETURN NULL;
END;
$$;
CREATE TRIGGER accounts_pages_update AFTER UPDATE OF name ON accounts
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION page_generations_account();

