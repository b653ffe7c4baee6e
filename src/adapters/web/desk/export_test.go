package desk

// VerifyPassword is verifyPassword, for the tests.
var VerifyPassword = verifyPassword
