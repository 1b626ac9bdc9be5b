// itgov web console: built into dist/ (served by the nginx gateway at /, same
// origin as /api/v1). No inline script in the output (the gateway's CSP has
// script-src 'self'); hashed asset names under /assets/ (cached for a year).
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    // No inline <script> and no data: URLs for scripts; small assets stay
    // files too (CSP default-src 'self').
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      output: {
        manualChunks(id) {
          if (id.includes('node_modules/vue/') || id.includes('node_modules/@vue/') || id.includes('node_modules/vue-router/')) return 'vue'
        },
      },
    },
  },
  server: {
    // `npm run dev`: the API through a running gateway (ITGOV_GATEWAY_URL).
    proxy: { '/api': process.env.ITGOV_GATEWAY_URL || 'http://127.0.0.1:8080' },
  },
})
