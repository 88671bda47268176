// Booking pages: tell the server the browser's own time zone (IANA name from the Intl API),
// so times can be shown in the client's zone beside the practice's.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone) return;
  document.querySelectorAll("input[name=tz]").forEach(function (input) {
    input.value = zone;
  });
  document.querySelectorAll("a[data-tz-link]").forEach(function (link) {
    var url = new URL(link.href, window.location.href);
    url.searchParams.set("tz", zone);
    link.href = url.toString();
  });
  // A page that showed times in another zone than the browser's reloads once with it.
  var shown = document.querySelector("[data-booking-zone]");
  var here = new URL(window.location.href);
  if (shown && shown.getAttribute("data-booking-zone") !== zone && !here.searchParams.has("tz")) {
    here.searchParams.set("tz", zone);
    window.location.replace(here.toString());
  }
})();
