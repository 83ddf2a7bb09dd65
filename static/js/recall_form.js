// The recall form shows only the chosen scope's fields (lot; batch and range; serials). Without this script every
// field shows and the server checks the chosen scope's fields alike.
(function () {
  var form = document.getElementById("change-form");
  if (!form) return;
  function show() {
    var chosen = form.querySelector("input[name=scope]:checked");
    form.querySelectorAll("[data-scopes]").forEach(function (box) {
      box.hidden = !!chosen && box.dataset.scopes.split(" ").indexOf(chosen.value) === -1;
    });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "scope") show();
  });
  show();
})();
