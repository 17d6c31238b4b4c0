import { lazy, Suspense, useEffect } from 'react';
import { Navigate, Route, Routes, useLocation, useParams } from 'react-router';
import { CategorySlug, Username } from '@neon/contracts';
import { refreshSession } from './api/base-query';
import { signedIn, signedOut } from './api/session';
import { hasSessionHint } from './api/session-hint';
import { Layout } from './components/Layout';
import { Spinner } from './components/ErrorState';
import { Home } from './pages/Home';
import { NotFound } from './pages/NotFound';
import { useAppDispatch, useSession } from './store';

const Channel = lazy(() => import('./pages/Channel'));
const VideoPage = lazy(() => import('./pages/VideoPage'));
const Auth = lazy(() => import('./pages/Auth'));
const Profile = lazy(() => import('./pages/Profile'));
const Dashboard = lazy(() => import('./pages/Dashboard'));
const Admin = lazy(() => import('./pages/Admin'));
const Search = lazy(() => import('./pages/Search'));
const Categories = lazy(() => import('./pages/Categories'));
const Category = lazy(() => import('./pages/Category'));
const SecuritySettings = lazy(() => import('./security/SecuritySettings'));
const SubscriptionSettings = lazy(() => import('./subscriptions/SubscriptionSettings'));
const Developers = lazy(() => import('./developers/Developers'));
const DeveloperDocs = lazy(() => import('./developers/DeveloperDocs'));
const ApiReference = lazy(() => import('./developers/ApiReference'));
const Consent = lazy(() => import('./oauth/Consent'));
const ForgotPassword = lazy(() => import('./account/ForgotPassword'));
const ResetPassword = lazy(() => import('./account/ResetPassword'));
const VerifyEmail = lazy(() => import('./account/VerifyEmail'));

const usernamePattern = new RegExp((Username as { pattern?: string }).pattern ?? '^[a-z0-9_]+$');

function ChannelRoute() {
  const { username = '' } = useParams();
  const lower = username.toLowerCase();
  if (!usernamePattern.test(lower)) return <NotFound />;
  if (lower !== username) return <Navigate to={`/${lower}`} replace />;
  return <Channel username={lower} />;
}

const slugPattern = new RegExp((CategorySlug as { pattern?: string }).pattern ?? '^[a-z0-9-]+$');

function CategoryRoute() {
  const { slug = '' } = useParams();
  if (!slugPattern.test(slug)) return <NotFound />;
  return <Category key={slug} slug={slug} />;
}

/**
 * Pages for signed-in users wait for the silent refresh, then send strangers
 * to log in and back to the same address, query included (an app's
 * authorization request lives in it).
 */
function RequireUser({ admin, children }: { admin?: boolean; children: React.ReactNode }) {
  const { user, checked } = useSession();
  const location = useLocation();
  if (!checked) return <Spinner />;
  if (!user) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  if (admin && !user.roles.includes('admin')) {
    return <NotFound title="Admins only" message="This page is for Neon's administrators." />;
  }
  return <>{children}</>;
}

export function App() {
  const dispatch = useAppDispatch();
  useEffect(() => {
    // A reload forgets the access token (memory only): the refresh cookie brings the session back.
    // Without a sign-in on record there is no cookie to try, and the request would only fail.
    if (!hasSessionHint()) {
      dispatch(signedOut());
      return;
    }
    void refreshSession().then((t) => dispatch(t ? signedIn(t) : signedOut()));
  }, [dispatch]);

  return (
    <Suspense fallback={<Spinner />}>
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<Home />} />
          <Route path="login" element={<Auth mode="login" />} />
          <Route path="signup" element={<Auth mode="signup" />} />
          <Route path="forgot-password" element={<ForgotPassword />} />
          <Route path="reset-password" element={<ResetPassword />} />
          <Route path="verify-email" element={<VerifyEmail />} />
          <Route
            path="dashboard"
            element={
              <RequireUser>
                <Dashboard />
              </RequireUser>
            }
          />
          <Route
            path="admin"
            element={
              <RequireUser admin>
                <Admin />
              </RequireUser>
            }
          />
          <Route
            path="settings/security"
            element={
              <RequireUser>
                <SecuritySettings />
              </RequireUser>
            }
          />
          <Route
            path="settings/subscriptions"
            element={
              <RequireUser>
                <SubscriptionSettings />
              </RequireUser>
            }
          />
          <Route
            path="developers"
            element={
              <RequireUser>
                <Developers />
              </RequireUser>
            }
          />
          <Route path="developers/docs" element={<DeveloperDocs />} />
          <Route path="developers/reference" element={<ApiReference />} />
          <Route
            path="oauth/authorize"
            element={
              <RequireUser>
                <Consent />
              </RequireUser>
            }
          />
          {/* Pages, not channels: nothing else lives under /oauth. */}
          <Route path="oauth/*" element={<NotFound />} />
          <Route path="search" element={<Search />} />
          <Route path="directory" element={<Categories />} />
          <Route path="directory/:slug" element={<CategoryRoute />} />
          <Route path="u/:username" element={<Profile />} />
          <Route path="videos/:id" element={<VideoPage />} />
          <Route path=":username" element={<ChannelRoute />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </Suspense>
  );
}
