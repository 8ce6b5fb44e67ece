/** The strings of the authenticator-app pages, English; part of the one messages table (`en` in web/messages.ts). */
export const totpMessages = {
  'page.title.enrolTotp': 'Set up your authenticator app',
  'choose.totp': 'Authenticator app (recommended)',
  'choose.totp.hint': 'Use an app such as Google Authenticator, Microsoft Authenticator or 1Password. Works without a phone signal.',
  'totp.step1': 'Scan this QR code with your authenticator app.',
  'totp.qrAlt': 'QR code for adding {issuer} to your authenticator app',
  'totp.manual': 'Can’t scan it? Enter this key in the app instead:',
  'totp.account': 'Account: {account}',
  'totp.step2': 'Enter the 6-digit code the app shows to finish.',
  'totp.confirm': 'Confirm and continue',
  'totp.restart': 'Choose another method',
  'totp.error.used': 'That code was already used. Wait for the next one in your app.',
  'verify.totp.intro': 'Enter the 6-digit code from your authenticator app.',
  'page.title.changeTotp': 'Set up a new authenticator app',
  'settings.method.totp': 'You sign in with your password and a code from your authenticator app.',
  'settings.change.totp': 'An authenticator app (a new one, or set up again)',
} as const;

/** The same in Spanish (usted), typed by the English keys: none can be missing. */
export const totpMessagesEs: Readonly<Record<keyof typeof totpMessages, string>> = {
  'page.title.enrolTotp': 'Configure su aplicación de autenticación',
  'choose.totp': 'Aplicación de autenticación (recomendado)',
  'choose.totp.hint': 'Use una aplicación como Google Authenticator, Microsoft Authenticator o 1Password. Funciona sin cobertura móvil.',
  'totp.step1': 'Escanee este código QR con su aplicación de autenticación.',
  'totp.qrAlt': 'Código QR para añadir {issuer} a su aplicación de autenticación',
  'totp.manual': '¿No puede escanearlo? Introduzca esta clave en la aplicación:',
  'totp.account': 'Cuenta: {account}',
  'totp.step2': 'Para terminar, introduzca el código de 6 dígitos que muestra la aplicación.',
  'totp.confirm': 'Confirmar y continuar',
  'totp.restart': 'Elegir otro método',
  'totp.error.used': 'Ese código ya se usó. Espere al siguiente en su aplicación.',
  'verify.totp.intro': 'Introduzca el código de 6 dígitos de su aplicación de autenticación.',
  'page.title.changeTotp': 'Configure una nueva aplicación de autenticación',
  'settings.method.totp': 'Inicia sesión con su contraseña y un código de su aplicación de autenticación.',
  'settings.change.totp': 'Una aplicación de autenticación (una nueva, o configurarla de nuevo)',
};
