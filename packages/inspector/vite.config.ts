import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The page is built into ui/dist (not dist/, whose files each come from a src/ file), which the
// server reads at start.
export default defineConfig({
  root: "ui",
  base: "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The polyfill would be fine, but the page needs no inline script of any kind (CSP).
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
});
