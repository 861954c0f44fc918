import type { MailMessage } from '../../infra/mail/mailer.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function message(to: string, subject: string, lines: string[], link: { label: string; url: string }): MailMessage {
  // The link alone on its line, so it can be selected and copied whole.
  const text = [...lines, '', `${link.label}:`, link.url, ''].join('\n');
  const html = [
    ...lines.map((line) => `<p>${escapeHtml(line)}</p>`),
    `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>`,
    '',
  ].join('\n');
  return { to, subject, text, html };
}

// Nothing a requester typed goes into an e-mail, not even a name: whoever registers or asks a reset
// names the address, and the address may be a stranger's, who would get the words from us.

export function welcomeEmail(to: string, verifyUrl: string): MailMessage {
  return message(
    to,
    'Welcome to Tokenpool',
    ['Hello,', 'your Tokenpool account is ready. Please confirm that this e-mail address is yours.'],
    { label: 'Confirm your e-mail', url: verifyUrl },
  );
}

/** To an address nobody has confirmed yet: it quotes nothing the inviting admin typed. */
export function invitationEmail(to: string, setPasswordUrl: string, validHours: number): MailMessage {
  return message(
    to,
    'You are invited to Tokenpool',
    [
      'Hello,',
      `an administrator of Tokenpool made an account for this e-mail address. Choose a password to sign in: the link works once, for ${validHours} hours.`,
      'If you did not expect this, ignore this e-mail.',
    ],
    { label: 'Choose your password', url: setPasswordUrl },
  );
}

export function passwordResetEmail(to: string, resetUrl: string, validMinutes: number): MailMessage {
  return message(
    to,
    'Reset your Tokenpool password',
    [
      'Hello,',
      `someone asked to reset the password of this account. The link works once, for ${validMinutes} minutes.`,
      'If it was not you, ignore this e-mail: your password stays as it is.',
    ],
    { label: 'Choose a new password', url: resetUrl },
  );
}
