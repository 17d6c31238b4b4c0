import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import type { Me, TokenResponse } from '@neon/contracts';

/**
 * The signed-in user and the access token. Held in the store (memory) only:
 * a reload restores the session from the httpOnly refresh cookie instead.
 */
export interface SessionState {
  accessToken: string | null;
  user: Me | null;
  /** False until the first silent refresh settled, so pages don't flash "log in". */
  checked: boolean;
}

const initialState: SessionState = { accessToken: null, user: null, checked: false };

export const sessionSlice = createSlice({
  name: 'session',
  initialState,
  reducers: {
    signedIn(state, action: PayloadAction<TokenResponse>) {
      state.accessToken = action.payload.accessToken;
      state.user = action.payload.user;
      state.checked = true;
    },
    /** A new access token for the same session (after a second-factor check). */
    tokenRenewed(state, action: PayloadAction<string>) {
      if (state.user) state.accessToken = action.payload;
    },
    userUpdated(state, action: PayloadAction<Me>) {
      state.user = action.payload;
    },
    signedOut(state) {
      state.accessToken = null;
      state.user = null;
      state.checked = true;
    },
  },
});

export const { signedIn, userUpdated, signedOut, tokenRenewed } = sessionSlice.actions;
