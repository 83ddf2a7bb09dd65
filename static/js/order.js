// Shows the guess probability of the product's serial format for the quantity being ordered.
(function () {
  var form = document.getElementById("order-form"), out = document.getElementById("guess");
  if (!form) return;
  var space = Number(form.dataset.space), issued = Number(form.dataset.issued), limit = Number(form.dataset.limit);
  var quantity = form.querySelector("input[name=quantity]");
  function show() {
    var p = (issued + (Number(quantity.value) || 0)) / space;
    out.textContent = p === 0 ? "0" : "1 in " + Math.round(1 / p).toLocaleString();
    out.className = p > limit ? "error" : "";
  }
  quantity.addEventListener("input", show); show();
})();
