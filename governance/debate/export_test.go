package debate

// Unexported names the external tests (package debate_test) use.

var BalanceOf = balance

var Highlight = highlight

var Itoa = itoa

var SearchSQL = searchSQL
