// The print form shows only the options of the chosen format (the server ignores the others anyway).
(function () {
  var form = document.getElementById("print-form");
  if (!form || !form.dataset.options) return;
  var byFormat = JSON.parse(form.dataset.options);
  var all = {};
  Object.keys(byFormat).forEach(function (f) { byFormat[f].forEach(function (n) { all[n] = true; }); });
  var choice = form.elements["format"];
  function update() {
    var wanted = byFormat[choice.value] || [];
    Object.keys(all).forEach(function (name) {
      var input = form.elements[name];
      var field = input && input.closest(".field");
      if (field) { field.hidden = wanted.indexOf(name) < 0; }
    });
  }
  choice.addEventListener("change", update);
  update();
})();
