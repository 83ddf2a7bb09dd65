// Switch brand as soon as one is chosen (the form still has a button for browsers without scripts).
(function () {
  var select = document.querySelector(".switcher select");
  if (select) { select.addEventListener("change", function () { select.form.submit(); }); }
})();
