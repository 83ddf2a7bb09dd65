// The verify page's own script (no inline script: the CSP allows only files like this one).
(function () {
  // A person's browser runs this; link previews and crawlers fetch the page but do not: only this POST
  // counts the scan on the code, so a preview never uses up the first scan.
  var page = document.getElementById("verdict");
  if (page && page.dataset.confirm) {
    var body = new URLSearchParams({ token: page.dataset.confirm });
    fetch(page.dataset.confirmUrl, { method: "POST", body: body, credentials: "omit" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        // Someone else confirmed first (two phones at once): show the page as it now stands.
        if (d.counted && String(d.first_scan) !== page.dataset.firstScan) { window.location.reload(); }
      })
      .catch(function () {});
  }
  var button = document.getElementById("locate");
  if (!button) return;
  button.addEventListener("click", function () {
    if (!navigator.geolocation) { button.disabled = true; return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      var body = new URLSearchParams({ token: button.dataset.token, lat: p.coords.latitude, lon: p.coords.longitude });
      fetch(button.dataset.url, { method: "POST", body: body }).then(function (r) { return r.json(); })
        .then(function (d) { button.disabled = true; button.textContent = d.located ? d.place : button.dataset.located; });
    });
  });
})();
