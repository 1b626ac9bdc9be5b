import { createApp } from 'vue'
import 'element-plus/dist/index.css'
import './style.css'
import App from './App.vue'
import { router, pendingPath } from './router.js'
import { setUnauthorizedHandler } from './lib/api.js'

// An expired or ended session (401): to sign-in, then back to this page.
let redirecting = false
setUnauthorizedHandler(() => {
  const cur = router.currentRoute.value
  const back = pendingPath() || cur.fullPath
  if (redirecting || cur.name === 'login' || back.startsWith('/login')) return
  redirecting = true
  router
    .push({ name: 'login', query: { redirect: back, expired: '1' } })
    .finally(() => {
      redirecting = false
    })
})

createApp(App).use(router).mount('#app')
