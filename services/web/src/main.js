import { createApp } from 'vue'
import 'element-plus/dist/index.css'
import './style.css'
import App from './App.vue'
import { router } from './router.js'
import { setUnauthorizedHandler } from './lib/api.js'

// An expired or ended session (401): to sign-in, then back to this page.
let redirecting = false
setUnauthorizedHandler(() => {
  const cur = router.currentRoute.value
  if (redirecting || cur.name === 'login') return
  redirecting = true
  const pending = router.currentRoute.value.fullPath
  router
    .push({ name: 'login', query: { redirect: pending, expired: '1' } })
    .finally(() => {
      redirecting = false
    })
})

createApp(App).use(router).mount('#app')
