// The signed-in user as part S's screens need it (the shell's auth store).
import { auth, hasRole as shellHasRole } from '../../lib/auth.js'

export function useMe() {
  return auth
}
export function hasRole(...roles) {
  return shellHasRole(...roles)
}
