// Settings: the verify-page preview follows the form as you type (name, colour, message, logo file).
(function () {
  var form = document.getElementById("settings-form");
  var preview = document.getElementById("brand-preview");
  if (!form || !preview) return;
  function update() {
    var colour = form.elements["colour"].value || "#1f6feb";
    preview.style.setProperty("--brand", colour);
    document.getElementById("preview-name").textContent = form.elements["name"].value;
    var message = document.getElementById("preview-message");
    message.textContent = form.elements["consumer_message"].value;
    message.hidden = !message.textContent;
  }
  form.addEventListener("input", update);
  form.elements["logo"] && form.elements["logo"].addEventListener("change", function (e) {
    var file = e.target.files && e.target.files[0];
    var img = document.getElementById("preview-logo");
    if (!file) return;
    // A data: URL, which the page's Content-Security-Policy allows for images (a blob: URL it would block).
    var reader = new FileReader();
    reader.onload = function () { img.src = reader.result; img.hidden = false; };
    reader.readAsDataURL(file);
  });
  update();
})();
