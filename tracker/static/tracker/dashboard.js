// The dashboard: choosing another obligation redraws the map at once (the form's button
// does the same without script).
document.addEventListener("DOMContentLoaded", () => {
  const choice = document.getElementById("map-obligation");
  if (choice) {
    choice.addEventListener("change", () => choice.form.submit());
  }
});
