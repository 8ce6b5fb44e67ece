/**
 * The strings of the passkey / security key factor (views/passkey/*.ejs,
 * views/partials/passkey-list.ejs, and the route's errors), to be merged into the one messages
 * table (`en` in web/messages.ts, `es` in web/messages.es.ts). `{name}` placeholders are filled
 * in by format(); `{count|one|other}` picks the word that agrees with `count`.
 *
 * Spanish: usted, like the rest of the Spanish table; "llave de acceso" (passkey) and "llave de
 * seguridad" (security key) are the words Google, Apple and Microsoft use in Spanish.
 */
const en = {
  'passkey.title.enrol': 'Set up a passkey or security key',
  'passkey.title.verify': 'Use your passkey or security key',

  // The method choice, the settings page's "switch to", the settings line and the admin column.
  'passkey.choose': 'Passkey or security key',
  'passkey.choose.hint': 'Confirm with your fingerprint, face or screen lock, or touch a security key such as a YubiKey. Nothing to type, and it can’t be phished.',
  'passkey.changeTo': 'A passkey or security key',
  'passkey.describe': 'You sign in with your password and a passkey or security key ({count} {count|key|keys} set up).',
  'passkey.adminStatus': 'Passkey ({count})',

  'passkey.enrol.intro': 'Use a passkey saved on this device or in your password manager, or a security key such as a YubiKey. When you sign in, you confirm with your fingerprint, face or screen lock, or by touching the key.',
  'passkey.name.label': 'Name this key',
  'passkey.name.hint': 'Optional, up to 64 characters, so you can tell your keys apart: for example “YubiKey 5” or “MacBook”.',
  'passkey.enrol.submit': 'Set up passkey or security key',
  'passkey.enrol.restart': 'Choose another method',
  'passkey.enrol.noscript': 'Passkeys and security keys need JavaScript. Turn it on in your browser, or choose another method.',
  'passkey.enrol.unsupported': 'This browser can’t use passkeys or security keys. Try another browser, or choose another method.',
  'passkey.enrol.cancelled': 'Nothing was set up: it was cancelled, or it took too long. Try again when you’re ready.',
  'passkey.enrol.duplicate': 'That key is already set up for your account. Use a different key, or choose another method.',
  /** The label of an unnamed key's default name ("Passkey 2025-01-31"): see defaultPasskeyName. */
  'passkey.defaultName': 'Passkey',

  'passkey.verify.intro': 'Confirm it’s you with the passkey or security key you set up.',
  'passkey.verify.submit': 'Use your passkey or security key',
  'passkey.verify.noscript': 'Passkeys and security keys need JavaScript. Turn it on in your browser, or use a recovery code instead.',
  'passkey.verify.unsupported': 'This browser can’t use passkeys or security keys. Try another browser, or use a recovery code instead.',
  'passkey.verify.cancelled': 'Your passkey or security key wasn’t used: it was cancelled, or it took too long. Try again, or use a recovery code instead.',

  'passkey.list.heading': 'Passkeys and security keys',
  'passkey.list.count': 'You have {count} {count|key|keys} set up.',
  'passkey.list.added': 'Added {when}',
  'passkey.list.lastUsed': 'Last used {when}',
  'passkey.list.neverUsed': 'Not used to sign in yet',
  'passkey.list.synced': 'Synced passkey',
  'passkey.list.remove': 'Remove',
  'passkey.list.removeNamed': 'Remove {name}',
  'passkey.list.onlyKey': 'This is your only key, so it can’t be removed. Add another key first, or switch to another method.',
  'passkey.list.empty': 'No passkeys or security keys are set up.',
  'passkey.list.add': 'Add another passkey or security key',
  'passkey.added': '“{name}” is set up.',
  'passkey.removed': '“{name}” was removed. It can no longer be used to sign in.',

  'passkey.error.invalid': 'That didn’t work: the passkey or security key couldn’t be checked. Try again.',
  'passkey.error.unknownCredential': 'That key isn’t set up for your account. Use the passkey or security key you set up, or a recovery code.',
  'passkey.error.counter': 'That key couldn’t be used because it reported an unexpected use count, which can mean it was copied. Use another key or a recovery code.',
  'passkey.error.duplicate': 'That key is already set up for your account.',
  'passkey.error.tooLarge': 'This key can’t be used with this site. Try a different passkey or security key.',
  'passkey.error.name': 'Enter a name of up to 64 characters, without line breaks or special characters.',
  'passkey.error.expired': 'This page has expired. Try again.',
} as const;

export type PasskeyMessageKey = keyof typeof en;

/** Typed with every key of `en`: a string added in English without Spanish is a compile error. */
const es: Readonly<Record<PasskeyMessageKey, string>> = {
  'passkey.title.enrol': 'Configurar una llave de acceso o de seguridad',
  'passkey.title.verify': 'Use su llave de acceso o de seguridad',

  'passkey.choose': 'Llave de acceso o llave de seguridad',
  'passkey.choose.hint': 'Confirme con su huella, su cara o el bloqueo de pantalla, o toque una llave de seguridad como una YubiKey. No hay nada que escribir y le protege del phishing.',
  'passkey.changeTo': 'Una llave de acceso o de seguridad',
  'passkey.describe': 'Inicia sesión con su contraseña y una llave de acceso o de seguridad ({count} {count|llave configurada|llaves configuradas}).',
  'passkey.adminStatus': 'Llave de acceso ({count})',

  'passkey.enrol.intro': 'Use una llave de acceso guardada en este dispositivo o en su gestor de contraseñas, o una llave de seguridad como una YubiKey. Al iniciar sesión, confirmará con su huella, su cara o el bloqueo de pantalla, o tocando la llave.',
  'passkey.name.label': 'Ponga un nombre a esta llave',
  'passkey.name.hint': 'Opcional, hasta 64 caracteres, para distinguir sus llaves: por ejemplo, «YubiKey 5» o «MacBook».',
  'passkey.enrol.submit': 'Configurar la llave de acceso o de seguridad',
  'passkey.enrol.restart': 'Elegir otro método',
  'passkey.enrol.noscript': 'Las llaves de acceso y de seguridad necesitan JavaScript. Actívelo en su navegador o elija otro método.',
  'passkey.enrol.unsupported': 'Este navegador no puede usar llaves de acceso ni de seguridad. Pruebe con otro navegador o elija otro método.',
  'passkey.enrol.cancelled': 'No se configuró nada: se canceló o tardó demasiado. Vuelva a intentarlo cuando esté listo.',
  'passkey.enrol.duplicate': 'Esa llave ya está configurada en su cuenta. Use otra llave o elija otro método.',
  'passkey.defaultName': 'Llave de acceso',

  'passkey.verify.intro': 'Confirme que es usted con la llave de acceso o de seguridad que configuró.',
  'passkey.verify.submit': 'Usar su llave de acceso o de seguridad',
  'passkey.verify.noscript': 'Las llaves de acceso y de seguridad necesitan JavaScript. Actívelo en su navegador o use un código de recuperación.',
  'passkey.verify.unsupported': 'Este navegador no puede usar llaves de acceso ni de seguridad. Pruebe con otro navegador o use un código de recuperación.',
  'passkey.verify.cancelled': 'No se usó su llave de acceso o de seguridad: se canceló o tardó demasiado. Vuelva a intentarlo o use un código de recuperación.',

  'passkey.list.heading': 'Llaves de acceso y de seguridad',
  'passkey.list.count': 'Tiene {count} {count|llave configurada|llaves configuradas}.',
  'passkey.list.added': 'Añadida el {when}',
  'passkey.list.lastUsed': 'Último uso: {when}',
  'passkey.list.neverUsed': 'Aún no se ha usado para iniciar sesión',
  'passkey.list.synced': 'Llave de acceso sincronizada',
  'passkey.list.remove': 'Quitar',
  'passkey.list.removeNamed': 'Quitar {name}',
  'passkey.list.onlyKey': 'Esta es su única llave, así que no se puede quitar. Añada otra llave primero o cambie a otro método.',
  'passkey.list.empty': 'No hay llaves de acceso ni de seguridad configuradas.',
  'passkey.list.add': 'Añadir otra llave de acceso o de seguridad',
  'passkey.added': '«{name}» está configurada.',
  'passkey.removed': 'Se quitó «{name}». Ya no se puede usar para iniciar sesión.',

  'passkey.error.invalid': 'No funcionó: no se pudo comprobar la llave de acceso o de seguridad. Vuelva a intentarlo.',
  'passkey.error.unknownCredential': 'Esa llave no está configurada en su cuenta. Use la llave de acceso o de seguridad que configuró, o un código de recuperación.',
  'passkey.error.counter': 'No se pudo usar esa llave porque indicó un número de usos inesperado, lo que puede significar que se copió. Use otra llave o un código de recuperación.',
  'passkey.error.duplicate': 'Esa llave ya está configurada en su cuenta.',
  'passkey.error.tooLarge': 'Esta llave no se puede usar con este sitio. Pruebe con otra llave de acceso o de seguridad.',
  'passkey.error.name': 'Escriba un nombre de hasta 64 caracteres, sin saltos de línea ni caracteres especiales.',
  'passkey.error.expired': 'Esta página ha caducado. Vuelva a intentarlo.',
};

export const passkeyMessages = { en, es } as const;
