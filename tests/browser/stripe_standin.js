/* A stand-in for Stripe.js v3, for browser tests on a machine that cannot reach Stripe.
 *
 * It implements only what our pages call: Stripe(key, {stripeAccount}), elements({clientSecret}),
 * create("card" | "payment"), mount(selector), confirmSetup / confirmPayment, and
 * confirmCardSetup / confirmCardPayment. Card details typed into the mounted fields go from the
 * browser to the fake Stripe API (localstripe, behind the tests' recording proxy) with the
 * publishable key and the intent's client secret, as real Stripe.js sends them; our server
 * never sees them. The API base is the origin this file was served from.
 */
(function () {
  "use strict";
  var base = new URL(document.currentScript.src).origin;

  function encode(data, prefix, parts) {
    parts = parts || [];
    Object.keys(data).forEach(function (name) {
      var key = prefix ? prefix + "[" + name + "]" : name;
      var value = data[name];
      if (value !== null && typeof value === "object") {
        encode(value, key, parts);
      } else if (value !== undefined) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(value));
      }
    });
    return parts.join("&");
  }

  function intentId(clientSecret) {
    return clientSecret.split("_secret_")[0];
  }

  window.Stripe = function (publishableKey, options) {
    var account = (options && options.stripeAccount) || "";
    var fields = null;

    function post(path, data) {
      data.key = publishableKey;
      var headers = {"Content-Type": "application/x-www-form-urlencoded"};
      if (account) { headers["Stripe-Account"] = account; }
      return fetch(base + path, {method: "POST", headers: headers, body: encode(data)})
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok || body.error) {
              return {error: {message: (body.error && body.error.message) || "Card error"}};
            }
            return {ok: body};
          });
        }, function () {
          return {error: {message: "Could not reach Stripe."}};
        });
    }

    function cardData() {
      var expiry = fields.querySelector("[name=exp-date]").value.split("/");
      return {
        type: "card",
        card: {
          number: fields.querySelector("[name=cardnumber]").value.replace(/\s+/g, ""),
          exp_month: (expiry[0] || "").trim(),
          exp_year: "20" + (expiry[1] || "").trim(),
          cvc: fields.querySelector("[name=cvc]").value
        }
      };
    }

    function element() {
      return {
        mount: function (selector) {
          fields = document.querySelector(selector);
          fields.innerHTML =
            '<label>Card number <input name="cardnumber" inputmode="numeric" autocomplete="cc-number"></label>' +
            '<label>Expiry (MM / YY) <input name="exp-date" autocomplete="cc-exp"></label>' +
            '<label>CVC <input name="cvc" inputmode="numeric" autocomplete="cc-csc"></label>';
        }
      };
    }

    function elements(opts) {
      return {clientSecret: opts && opts.clientSecret, create: element};
    }

    function confirmSetup(clientSecret) {
      return post("/v1/setup_intents/" + intentId(clientSecret) + "/confirm", {
        client_secret: clientSecret,
        payment_method_data: cardData()
      }).then(function (result) {
        return result.error ? result : {setupIntent: result.ok};
      });
    }

    function confirmPayment(clientSecret, withCard) {
      var data = {client_secret: clientSecret};
      if (withCard) { data.payment_method_data = cardData(); }
      return post("/v1/payment_intents/" + intentId(clientSecret) + "/confirm", data)
        .then(function (result) {
          return result.error ? result : {paymentIntent: result.ok};
        });
    }

    return {
      elements: elements,
      confirmSetup: function (params) { return confirmSetup(params.elements.clientSecret); },
      confirmCardSetup: function (clientSecret) { return confirmSetup(clientSecret); },
      confirmPayment: function (params) {
        return confirmPayment(params.elements.clientSecret, true);
      },
      confirmCardPayment: function (clientSecret) {
        return confirmPayment(clientSecret, fields !== null);
      }
    };
  };
})();
