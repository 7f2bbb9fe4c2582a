// The "turn on notifications" button: subscribes this browser to web push (service worker
// /sw.js, the server's VAPID key) and tells the server; pressed again, unsubscribes.
(function () {
  "use strict";

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(padded);
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }

  function post(button, url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": button.dataset.csrf },
      body: JSON.stringify(body),
    }).then((response) => {
      if (!response.ok) throw new Error("The server answered " + response.status);
      return response.json();
    });
  }

  function show(button, subscribed, note) {
    button.hidden = false;
    button.setAttribute("aria-pressed", subscribed ? "true" : "false");
    button.textContent = subscribed ? "Notifications on" : "Turn on notifications";
    button.title = note || (subscribed ? "Press to stop notifications on this browser" : "");
  }

  async function setUp(button) {
    // Web push needs a secure context (https, or http://localhost) and a browser that has it.
    if (!window.isSecureContext || !("serviceWorker" in navigator) || !("PushManager" in window)) return;
    const registration = await navigator.serviceWorker.register(button.dataset.swUrl, { scope: "/" });
    let subscription = await registration.pushManager.getSubscription();
    show(button, Boolean(subscription) && Notification.permission === "granted");

    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        subscription = await registration.pushManager.getSubscription();
        if (subscription && Notification.permission === "granted") {
          await post(button, button.dataset.unsubscribeUrl, { endpoint: subscription.endpoint });
          await subscription.unsubscribe();
          show(button, false);
          return;
        }
        if ((await Notification.requestPermission()) !== "granted") {
          show(button, false, "Notifications are blocked for this site in the browser's settings");
          return;
        }
        subscription = await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(button.dataset.key),
        });
        await post(button, button.dataset.subscribeUrl, subscription.toJSON());
        show(button, true);
      } catch (error) {
        show(button, false, "Could not turn notifications on: " + error.message);
      } finally {
        button.disabled = false;
      }
    });
  }

  document.querySelectorAll("button.push-toggle").forEach((button) => {
    setUp(button).catch(() => {});
  });
})();
