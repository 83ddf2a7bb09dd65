// Inline GTIN check: the GS1 mod-10 check digit as the user types (the server checks again).
document.querySelectorAll("input[data-gtin]").forEach(function (input) {
  var note = document.createElement("div");
  input.insertAdjacentElement("afterend", note);
  input.addEventListener("input", function () {
    var digits = input.value.replace(/\s/g, "");
    if (!/^(\d{8}|\d{12,14})$/.test(digits)) { note.className = "muted"; note.textContent = digits ? "8, 12, 13 or 14 digits" : ""; return; }
    var sum = 0, body = digits.slice(0, -1);
    for (var i = 0; i < body.length; i++) { sum += Number(body[body.length - 1 - i]) * (i % 2 === 0 ? 3 : 1); }
    var check = (10 - (sum % 10)) % 10;
    var ok = check === Number(digits[digits.length - 1]);
    note.className = ok ? "muted" : "error";
    note.textContent = ok ? "Check digit OK" : "Check digit should be " + check;
  });
});
