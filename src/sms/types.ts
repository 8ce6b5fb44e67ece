/**
 * Sends one text message. Implementations: {@link messageBirdSender} for production,
 * {@link consoleSender} for development.
 */
export interface SmsSender {
  /**
   * Sends `body` to one phone number.
   *
   * @param to The recipient in E.164 form (`+14155550123`): one number, never a list.
   * @param body The text. It holds a sign-in code, so an implementation must never log it,
   *   nor put it in an error message or an error's `cause`.
   * @returns The provider's id for the message, for the host's logs.
   * @throws Rejects with a `TwoFactorError` of code `sms_failed` on any failure (bad number,
   *   provider refusal, provider error, network error, timeout); the provider's own error is
   *   kept as `cause` where it is safe to log.
   */
  send(to: string, body: string): Promise<{ id: string }>;
}
