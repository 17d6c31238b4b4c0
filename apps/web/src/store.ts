import { configureStore } from '@reduxjs/toolkit';
import { setupListeners } from '@reduxjs/toolkit/query';
import { useDispatch, useSelector } from 'react-redux';
import { api } from './api/api';
import { sessionSlice } from './api/session';
import { setSessionHint } from './api/session-hint';

export function createStore() {
  const store = configureStore({
    reducer: { session: sessionSlice.reducer, [api.reducerPath]: api.reducer },
    middleware: (getDefault) => getDefault().concat(api.middleware),
  });
  setupListeners(store.dispatch);
  // Kept in step with the session once it is known, so the next load knows whether to refresh.
  let last: boolean | null = null;
  store.subscribe(() => {
    const { user, checked } = store.getState().session;
    const now = checked ? user !== null : null;
    if (now === null || now === last) return;
    last = now;
    setSessionHint(now);
  });
  return store;
}

export type AppStore = ReturnType<typeof createStore>;
export type RootState = ReturnType<AppStore['getState']>;
export type AppDispatch = AppStore['dispatch'];
export const useAppDispatch = useDispatch.withTypes<AppDispatch>();
export const useAppSelector = useSelector.withTypes<RootState>();
export const useSession = () => useAppSelector((s) => s.session);
