// Passkeys and security keys (WebAuthn), the browser side. Plain ES2017, no modules, no eval:
// it runs under a strict CSP (script-src 'self'). Loaded with `defer` after
// simplewebauthn-browser.js (global SimpleWebAuthnBrowser).
//
// Contract with the pages:
//   <form data-passkey="register|authenticate" hidden> ... <input type="hidden" name="response">
//     <button type="submit">...</button></form>
//   <script type="application/json" id="sf-passkey-options">{...options JSON...}</script>
//   [data-passkey-unsupported]  hidden; shown when this browser cannot do WebAuthn
//   [data-passkey-cancelled]    hidden, role="alert"; shown when a ceremony fails or is cancelled
//   [data-passkey-duplicate]    optional, hidden, role="alert"; registering a key already registered
// The form starts `hidden` (without scripts only the <noscript> message shows); this script
// shows it when the browser can use it. On submit it runs the ceremony, puts the result's JSON
// in the hidden field and submits the form natively. The server checks everything.
(function () {
  'use strict';
  var forms = document.querySelectorAll('form[data-passkey]');
  if (forms.length === 0) return;
  var lib = window.SimpleWebAuthnBrowser;

  function supported() {
    try {
      return Boolean(window.PublicKeyCredential && lib && lib.browserSupportsWebAuthn && lib.browserSupportsWebAuthn());
    } catch (error) {
      return false;
    }
  }

  // The message inside the form if it has its own, else the page's.
  function find(form, attribute) {
    return form.querySelector('[' + attribute + ']') || document.querySelector('[' + attribute + ']');
  }

  function readOptions() {
    var block = document.getElementById('sf-passkey-options');
    if (!block) return undefined;
    try {
      return JSON.parse(block.textContent);
    } catch (error) {
      return undefined;
    }
  }

  // Unhides an alert so that screen readers announce it, again on every failure: an alert is
  // announced when its content changes, so the text is put back in after it is shown.
  function announce(element) {
    if (!element) return;
    var content = Array.prototype.slice.call(element.childNodes);
    content.forEach(function (node) { element.removeChild(node); });
    element.hidden = false;
    setTimeout(function () {
      content.forEach(function (node) { element.appendChild(node); });
    }, 50);
  }

  function setBusy(button, busy) {
    if (!button) return;
    button.disabled = busy;
    if (busy) button.setAttribute('aria-busy', 'true');
    else button.removeAttribute('aria-busy');
  }

  function unsupported(form, button) {
    var message = find(form, 'data-passkey-unsupported');
    if (message) message.hidden = false;
    if (button) {
      button.disabled = true;
      button.hidden = true;
    }
  }

  function ceremony(kind, optionsJSON) {
    if (kind === 'register') return lib.startRegistration({ optionsJSON: optionsJSON });
    return lib.startAuthentication({ optionsJSON: optionsJSON });
  }

  function wire(form) {
    var kind = form.getAttribute('data-passkey');
    var button = form.querySelector('button[type="submit"], button:not([type])');
    var field = form.querySelector('input[name="response"]');
    var optionsJSON = readOptions();
    if ((kind !== 'register' && kind !== 'authenticate') || !field || !optionsJSON || !supported()) {
      unsupported(form, button);
      return;
    }
    form.hidden = false;
    var busy = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (busy) return;
      busy = true;
      setBusy(button, true);
      [find(form, 'data-passkey-cancelled'), find(form, 'data-passkey-duplicate')].forEach(function (message) {
        if (message) message.hidden = true;
      });
      ceremony(kind, optionsJSON).then(
        function (result) {
          field.value = JSON.stringify(result);
          // Native submit: no submit event again, so no loop; the button stays busy while the
          // next page loads.
          form.submit();
        },
        function (error) {
          busy = false;
          setBusy(button, false);
          var duplicate = error && error.code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED' && find(form, 'data-passkey-duplicate');
          announce(duplicate || find(form, 'data-passkey-cancelled'));
          // The focus was on the button, which was disabled: give it back so a keyboard user
          // can try again at once.
          if (button) button.focus();
        }
      );
    });
  }

  Array.prototype.forEach.call(forms, wire);
})();
