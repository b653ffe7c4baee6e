package desk

// VerifyPassword is verifyPassword, for the tests.
var VerifyPassword = verifyPassword

// BlockSpan is blockSpan, for the tests.
var BlockSpan = blockSpan
