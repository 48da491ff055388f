-- The instance's operators and the councils' own settings (issue 16, part 1):
-- who installs cla and creates councils, each council's identity, state and
-- presentation, and the proposal that puts a model's register to a council's
-- first meeting.

-- Operators of the instance: they create councils and edit their host names,
-- but have no power inside a council without a membership there.
CREATE TABLE operators (
    account_id bigint PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE councils
    ADD COLUMN commune           text NOT NULL DEFAULT '' CHECK (length(commune) <= 200),
    ADD COLUMN contact_email     text NOT NULL DEFAULT '' CHECK (length(contact_email) <= 254 AND contact_email !~ '\s'),
    ADD COLUMN timezone          text NOT NULL DEFAULT 'Europe/Paris' CHECK (length(timezone) BETWEEN 1 AND 64),
    -- active; suspended (public pages answer 503); archived (read-only).
    ADD COLUMN state             text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended', 'archived')),
    ADD COLUMN presentation_md   text NOT NULL DEFAULT '' CHECK (length(presentation_md) <= 20000),
    ADD COLUMN presentation_html text NOT NULL DEFAULT '',
    -- false: the register and its open data are shown to members only.
    ADD COLUMN register_public   boolean NOT NULL DEFAULT true;

-- A proposal may put a whole initial register (a model's) to the vote.
ALTER TABLE proposals DROP CONSTRAINT proposals_kind_check;
ALTER TABLE proposals ADD CONSTRAINT proposals_kind_check CHECK (kind IN ('item_new', 'item_status', 'shop_adhesion',
    'shop_suspension', 'shop_withdrawal', 'criteria', 'boussole', 'register_initial'));

-- The register change an initial-register proposal applies when adopted
-- (catalog.Change as JSON), written once when the council is created.
CREATE TABLE proposal_register_changes (
    proposal_id bigint PRIMARY KEY,
    council_id  bigint NOT NULL,
    change      jsonb NOT NULL,
    FOREIGN KEY (proposal_id, council_id) REFERENCES proposals (id, council_id)
);
