package core

import (
	"errors"
	"fmt"
)

// Code classifies an error for callers: the HTTP adapter maps it to a status, the
// dialog maps it to a reply. Codes are few on purpose.
type Code string

// The error codes. Their string values are part of the public API.
const (
	EInvalid     Code = "invalid"
	ENotFound    Code = "not_found"
	EConflict    Code = "conflict"
	EForbidden   Code = "forbidden"
	EUnavailable Code = "unavailable"
	EInternal    Code = "internal"
)

// Error is salonbook's one error type: a code, a message key a client may be shown
// (translated by whoever renders it), a detail for operators, and the cause.
// Clients never see Detail or the cause; logs do.
type Error struct {
	Code   Code
	Key    string // message key, e.g. "booking.slot_taken"; safe to show
	Detail string // operator-facing text, cause included; may name fields, never secrets
	Err    error
}

// Error returns the detail, which already says the cause when Errorf made it; an
// error with no detail reads as its key and cause.
func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Detail
	}
	if e.Err != nil {
		return e.Key + ": " + e.Err.Error()
	}
	return e.Key
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error. The format may use %w to wrap a cause.
func Errorf(code Code, key, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Key: key, Detail: err.Error(), Err: errors.Unwrap(err)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EInternal
}

// ErrorKey returns the client-facing message key of err, or "error.internal".
func ErrorKey(err error) string {
	if e, ok := errors.AsType[*Error](err); ok && e.Code != EInternal && e.Key != "" {
		return e.Key
	}
	return "error.internal"
}
