// Package telegramtest is a fake of the Telegram Bot API for tests, demos and load
// tests. A Server answers on Telegram's own paths (/bot<token>/<method> and
// /bot<token>/test/<method>), reads multipart, urlencoded and JSON bodies, and
// answers with Telegram's response shapes and error descriptions, so the real
// go-telegram client can be pointed at it with bot.WithServerURL.
//
// It implements getMe, getUpdates (offset, limit and long polling on a queue fed by
// Enqueue), setWebhook, deleteWebhook, getWebhookInfo, sendMessage, editMessageText,
// answerCallbackQuery, sendInvoice and answerPreCheckoutQuery; Pay plays a user
// paying an invoice (a pre_checkout_query that must be answered within 10
// seconds, then a successful_payment message). It enforces the flood limits (per chat, per group, per
// bot) by answering 429 with retry_after, answers 403 for chats that blocked the
// bot, injects failures on request, records every message sent or edited, and
// delivers updates to a registered webhook with the secret header.
//
// Where Telegram's behaviour is documented the fake follows it; where it is not
// (the exact wording of rarer errors, HTML and MarkdownV2 parsing details), the fake
// is close and, when in doubt, stricter, so a bot that passes here is likely to pass
// against Telegram.
//
// It never logs, and never writes a token into a response or an error.
package telegramtest
