// "Nej tak" on the satisfaction prompt (issue 16): with JavaScript the prompt is hidden in
// place and the choice is posted in the background; without, the form posts and the page
// comes back without the prompt. Either way the server remembers it for the session.
(function () {
  "use strict";
  var prompt = document.getElementById("satisfaction");
  if (!prompt) {
    return;
  }
  var button = prompt.querySelector("[data-satisfaction-dismiss]");
  var form = prompt.querySelector("form");
  if (!button || !form || !window.fetch || !window.FormData) {
    return;
  }
  button.addEventListener("click", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    data.append("nej-tak", "1");
    // In the background: the answer is "204 No Content", the page is not loaded (or counted) again.
    data.append("baggrund", "1");
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin" });
    prompt.hidden = true;
    var main = document.getElementById("main-content");
    if (main) {
      main.focus();
    }
  });
})();
