// Progressive enhancement only: every page works without this file.
// A resend button rendered with data-countdown="N" stays disabled for N seconds with a visible
// count ("Resend (11s)": data-countdown-label, from the messages table, so it is translated);
// the server enforces the same cooldown (429 with Retry-After), so this is a convenience, not the rule.
(function () {
  'use strict';
  var buttons = document.querySelectorAll('[data-countdown]');
  Array.prototype.forEach.call(buttons, function (button) {
    var remaining = parseInt(button.getAttribute('data-countdown'), 10);
    var label = button.getAttribute('data-label') || button.textContent;
    var template = button.getAttribute('data-countdown-label') || '{label} ({seconds}s)';
    var status = document.getElementById(button.getAttribute('aria-describedby') || '');
    if (!(remaining > 0)) return;
    function render() {
      if (remaining > 0) {
        button.disabled = true;
        button.textContent = template.replace('{label}', label).replace('{seconds}', String(remaining));
      } else {
        button.disabled = false;
        button.textContent = label;
        if (status) status.textContent = '';
      }
    }
    render();
    var timer = setInterval(function () {
      remaining -= 1;
      render();
      if (remaining <= 0) clearInterval(timer);
    }, 1000);
  });
})();
