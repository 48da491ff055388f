package migrations

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"testing"
)

// merged holds the SHA-256 of every merged migration. A merged migration never
// changes (DESIGN.md, Data): a change to the schema is a new file, whose
// checksum is added here in the change that adds it.
var merged = map[string]string{
	"0001_foundation.tx.down.sql":               "edc7d06ea752ab79d464b8a579ecc8f5e6bef958a636410f61d7fd120f789636",
	"0001_foundation.tx.up.sql":                 "ff57635792c5530c80f40679a9c70afb59a98c651d6b90d36bd9da6f47917538",
	"0002_audit.tx.down.sql":                    "6822465089e5b38a9b50e166114615ee9d92d5fcd12c9d77dfe2f832c1f381c6",
	"0002_audit.tx.up.sql":                      "4c600b0c55b6b4445da89b80ea01a4d2d990a6efad88616dfebfb2f62abbad8f",
	"0003_accounts.tx.down.sql":                 "536973fb35b6c1e70ddc7eea4957e9492088e863079d1fad3aed560c66116c3a",
	"0003_accounts.tx.up.sql":                   "691c486f9b66b12f773a8193c0efe3aedc20db9583d6f856f8e8d2a3bfcff212",
	"0004_register.tx.down.sql":                 "6b78786ac35a416b37a25759d9bc7a179943043e2ec12a7bc03d2ec29eb9e361",
	"0004_register.tx.up.sql":                   "22b55e0c4cd5434eda3cc6b751022cd43ebd41841868655a8c640b74a0f8bfaf",
	"0005_proposals.tx.down.sql":                "f0ed9a23fa5d952dfa2430c02b7d68b39f4c977005cd2bba99c896581416df14",
	"0005_proposals.tx.up.sql":                  "b47e6a8ec7e30cc47c90a7bcb1be63d7858eb06e9a4b065e1fa8effa472ec3ad",
	"0006_debates.tx.down.sql":                  "a4bc79cebfb2d4aaf70fd313a5c39362d336ecc9a806c15f064c08a4d76bba8b",
	"0006_debates.tx.up.sql":                    "fbbb40be30ea8e82fbbebde0219151ebb29a52ca123f51275298ef2b968a2647",
	"0007_proposals_search.tx.down.sql":         "514e4e6d82c279f7b763c4f4767c9c22f8626d8d1e6300315a05adf36db9f163",
	"0007_proposals_search.tx.up.sql":           "feae0054ff9734139bdb315b0811d1c451a9898666ed6f4fb40cd45d8808877c",
	"0008_meetings.tx.down.sql":                 "024dece2b9554dc2903f474928ff8679cf5765ec9a569a3aedde9dd35515e04f",
	"0008_meetings.tx.up.sql":                   "30a8517d29eb1d7cb940d8e5e4ef60eeb8895d11aeecca96936fdcd0af569801",
	"0010_applications.tx.down.sql":             "01f68d5cda4bc5c3f343e9a3b22454be7e9521e360672541bfb55bf496178386",
	"0010_applications.tx.up.sql":               "b01141398d6493414dc80de278ec3df2de2c8a6dbccb0a8032a694ea5cb044b2",
	"0011_hot_paths.tx.down.sql":                "0823516033f9df779749aed1896de75bdc13229f09dbd1c8ee2bf3405e88401a",
	"0011_hot_paths.tx.up.sql":                  "8de4c09b850a212bb9a88776511579a9a84e05383f8e5c42430e2286051b3497",
	"0012_trust.tx.down.sql":                    "85233d2c39b770de63339b6f873b1631891762a9848434a6705f1e64ef3f7843",
	"0012_trust.tx.up.sql":                      "2fc8194ded0e55636f4c73dc68090ba991452b69499f198970ad49d4090bfba0",
	"0013_audit_heads.tx.down.sql":              "b7ae53105993c32cd58f332b6bcc313896785aab12809f909c16ac2eead5c349",
	"0013_audit_heads.tx.up.sql":                "98dd59f08aff181782079785f0e367f8d9b6e048dd4c30d24006e146c4754160",
	"0014_form_submissions.tx.down.sql":         "ba6d641fa62bb9c3ba85b8871a7814d280ff06099ff8b2534a55e36cafe9ddb6",
	"0014_form_submissions.tx.up.sql":           "195dd1271052fc8d6927b0a0637fbbb6073c199d0764823f1fcf0fe0e1ffc286",
	"0015_instance.tx.down.sql":                 "547d08d343effdd0ca21ad2b1e5bc0da2f21d310287f97a299068dec63549115",
	"0015_instance.tx.up.sql":                   "bc9c09e0794aed5a2e21cfe6b31f70092c6781220ab378b8a18566bb3a56a22c",
	"0016_boussole_exchange.tx.down.sql":        "29d61c6450167b43dd1f6f01563cfc33feac833ea74888f4031d58e68024e002",
	"0016_boussole_exchange.tx.up.sql":          "3995a72d2a11c2483c29c85e5baa55a6e7e4a6aaad2870690cdf65296ddf18e4",
	"0018_password_reset.tx.down.sql":           "45fc70fa83037f17547dbb5f4e1a55e6566f13b00183776745fa630c492df49a",
	"0018_password_reset.tx.up.sql":             "16e2d686cec072b402c6d4f87e2c99170de1502e2859c227ede9ddab39d2fa26",
	"0017_notifications.tx.down.sql":            "98722dbe4a2496ba81ebf3b04ed48d829b8fc499fad4f6600c627bc0e63d01f3",
	"0017_notifications.tx.up.sql":              "f93d8433bf391c5b98eff4b848fabc70d30cc30937b66e1cf33194cee66243e0",
	"0019_integrations.tx.down.sql":             "fbf0a1d2dab183967e51bef57530a28b5aa867305fc0f5331b42bc7825c1add6",
	"0019_integrations.tx.up.sql":               "da47ad35b5edf4b1727308699cf741a63e20e845100a263554e83e6c8ef5263d",
	"0020_shop_baskets.tx.down.sql":             "09dd1357a27cce0d1995284249f4fa61b99f9b94eb3eb9332121f4998f608c66",
	"0020_shop_baskets.tx.up.sql":               "54b7f235a244bed634a3092d93c37451e28b689fd2f4aa0e9950854f45fea966",
	"0021_notify_more.tx.down.sql":              "a7da3f0651c84cc4bc6e26252dd760e94a4eded2a7482a323c7ee7f7aee895af",
	"0021_notify_more.tx.up.sql":                "21a1f31945d26f5d91f484d4669762a243156d2c97597188487fc79240c88b82",
	"0022_odoo_connector.tx.down.sql":           "91cd9fa1b960654855c95b08655982dc6aec5d903311b310b82f8fec863fff72",
	"0022_odoo_connector.tx.up.sql":             "5f413987424b09ee14007c3e59d581105e2fb10c012ac0b0b212365b3daa3126",
	"0023_meeting_snapshots.tx.down.sql":        "db725b00817a185ec26a977a9a1ee4f1051858aa20283361eb5a3a6925255cbc",
	"0023_meeting_snapshots.tx.up.sql":          "96d2c1397fbf67bf220016c0cf0ce2d32cb653cde9f3f239e1109d2f8cd0cfe7",
	"0024_meeting_room.tx.down.sql":             "c1961eb6235b68668f9caf079dd46f4d90b36608430c65ed52ca3796296251fc",
	"0024_meeting_room.tx.up.sql":               "10044947235bb1dd335fa4e6d6a7fd4a8f0c72e849958fb2065d53c4307f5cba",
	"0025_register_keywords.tx.down.sql":        "443b99d5bf1b03b704d5efc1de1a84bd20e3ba95290c9a675865593c4dcc5b54",
	"0025_register_keywords.tx.up.sql":          "52e6a12e4505c532833e4d499357515b6624c88602a329c21a2852be2e69847c",
	"0027_sortition.tx.down.sql":                "7b343c05b129e89fe094b1054ede5333158717e64a293cda0ba8f876f9123aa8",
	"0027_sortition.tx.up.sql":                  "1e49aa2a0c91dfc157c82059d18441335b4eaee7e82b30568ea776836ae8214b",
	"0029_vote_check_rectification.tx.down.sql": "8e6ec0be300c0222c2a3c6eef09813526bdda102c313dbd9afef8ab86a5d272b",
	"0029_vote_check_rectification.tx.up.sql":   "953445fd3d4f1e08cc0e4aa03cc8033a79f68870bc78fb14740ec694618e2642",
	"0030_audit_subject.tx.down.sql":            "c5d9ddd4e19da068e53499eac63a8560f3b12cb377899089e9c74ae8d5392a4f",
	"0030_audit_subject.tx.up.sql":              "7a04db2530ab45ac846fe8e60526010188be796410f4d2f5eed7e4593871aaf1",
	"0028_basket_periods.tx.down.sql":           "402e8bc1de1b2a1b28632970cf54d1339d17d07db580155e75ccf3e9dda2494f",
	"0028_basket_periods.tx.up.sql":             "6776fd12282ed98c1a6b507c97eb6b48471fde1fdeaed604bf6e923881c9dd29",
	"0031_page_cache.tx.down.sql":               "7356a68d39dc8c0bcb9b72eed3165c4b5332232cb1ab7990a7854e0546376dd2",
	"0031_page_cache.tx.up.sql":                 "e95ca98dd779841bfc91e880f35076d2a76ade3d6b86c42afd8de29b07b726e0",
	"0033_search_docs.tx.down.sql":              "9f89c28c3e74d544444bd62802d3a36c2e1125942b47aed328cf13841eb4df31",
	"0033_search_docs.tx.up.sql":                "a22a66ce4af90da591445e1b7a9a01d7ce9c0292791e53e9dc367f42ecbe284a",
	"0034_ballots_vote_lock.tx.down.sql":        "32ee9905c119490da9a7d010f4e1f85f58c88a7f80c73276d622da62006e8175",
	"0034_ballots_vote_lock.tx.up.sql":          "38cb330367c4bf6fa5ebc09d30f6208b4c3296a9eacd69b814e59a36acc2b085",
	"0035_search_gin_no_pending.tx.down.sql":    "0db233b9ddcadb96f7fc0b4b6f4d5f1ac8334b656fb5af3ad4770e359185c846",
	"0035_search_gin_no_pending.tx.up.sql":      "83c05632f9186ef2e8f489114a1beb96130628845160238f044a88e271b696be",
}

func TestMergedMigrationsNeverChange(t *testing.T) {
	files, err := fs.Glob(FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, name := range files {
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		got := hex.EncodeToString(sum[:])
		seen[name] = true
		want, ok := merged[name]
		switch {
		case !ok:
			t.Errorf("%s is new: add %q: %q to merged in migrations_test.go (and never edit the file again)", name, name, got)
		case got != want:
			t.Errorf("%s was edited after it was merged (sha256 %s, merged %s): write a new migration instead", name, got, want)
		}
	}
	for name := range merged {
		if !seen[name] {
			t.Errorf("%s was merged and is gone: merged migrations are never removed", name)
		}
	}
}
